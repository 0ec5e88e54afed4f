"""Parts of the site page: meter point rows, live site power, per-meter history with range and CSV."""

import reflex as rx

from ui_client import components

RANGE_CHOICES = ["24h", "7d", "30d", "custom"]


def history_panel(state) -> rx.Component:
    """History of the chosen meter point over the chosen range."""
    return rx.card(
        rx.vstack(
            rx.heading("History", size="4"),
            rx.flex(
                rx.select(
                    state.point_choices,
                    value=state.selected_point,
                    on_change=state.set_selected_point,
                    placeholder="Meter / point",
                    data_testid="point-select",
                ),
                rx.segmented_control.root(
                    *[rx.segmented_control.item(c, value=c) for c in RANGE_CHOICES],
                    value=state.range_choice,
                    on_change=state.set_range_choice,
                ),
                rx.cond(
                    state.range_choice == "custom",
                    rx.hstack(
                        rx.input(type="date", value=state.custom_start, on_change=state.set_custom_start),
                        rx.input(type="date", value=state.custom_end, on_change=state.set_custom_end),
                        rx.button("Show", on_click=state.load_history, size="2"),
                    ),
                ),
                rx.spacer(),
                rx.button(
                    "Download CSV",
                    on_click=state.download_csv,
                    variant="outline",
                    disabled=state.history.length() == 0,
                    data_testid="download-csv",
                ),
                spacing="3",
                wrap="wrap",
                align="center",
                width="100%",
            ),
            components.loading(state.history_loading),
            rx.cond(
                state.history.length() > 0,
                rx.box(
                    rx.recharts.line_chart(
                        rx.recharts.line(
                            data_key="value", is_animation_active=False, dot=False, stroke="#10b981"
                        ),
                        rx.recharts.x_axis(data_key="t", min_tick_gap=24),
                        rx.recharts.y_axis(),
                        rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
                        rx.recharts.graphing_tooltip(),
                        data=state.history,
                        width="100%",
                        height=280,
                    ),
                    width="100%",
                    data_testid="history-chart",
                ),
                rx.cond(
                    ~state.history_loading,
                    components.empty_state("No readings in this range yet.", "history-empty"),
                ),
            ),
            rx.text(state.history_note, size="1", color_scheme="gray"),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def live_power_chart(state) -> rx.Component:
    """Site power (sum of the meters' power points) as readings arrive."""
    return rx.card(
        rx.hstack(
            rx.heading("Live power (kW)", size="4"),
            rx.badge(
                rx.cond(state.live, "live", "connecting"),
                color_scheme=rx.cond(state.live, "green", "gray"),
                data_testid="site-live",
            ),
            align="center",
        ),
        rx.cond(
            state.power_series.length() > 0,
            rx.recharts.line_chart(
                rx.recharts.line(data_key="kw", is_animation_active=False, dot=False, stroke="#3b82f6"),
                rx.recharts.x_axis(data_key="t"),
                rx.recharts.y_axis(),
                rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
                rx.recharts.graphing_tooltip(),
                data=state.power_series,
                width="100%",
                height=220,
            ),
            components.empty_state("Waiting for live power readings from this site…", "power-empty"),
        ),
        width="100%",
        data_testid="live-power",
    )


def point_row(row) -> rx.Component:
    """One meter point in the table."""
    return rx.table.row(
        rx.table.cell(row["meter"]),
        rx.table.cell(row["point"]),
        rx.table.cell(row["value"], data_testid="point-value"),
        rx.table.cell(row["unit"]),
        rx.table.cell(row["when"]),
        rx.table.cell(
            rx.badge(row["reachable"], color_scheme=rx.cond(row["reachable"] == "reachable", "green", "red")),
            rx.text(row["error"], size="1", color_scheme="gray"),
        ),
    )


POINT_HEADERS = ("Meter", "Point", "Last value", "Unit", "When", "Reachability")


def points_table(state) -> rx.Component:
    """Every meter point of the site with its last value, or what to expect when there are none."""
    return rx.cond(
        state.point_rows.length() > 0,
        rx.box(
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in POINT_HEADERS])),
                rx.table.body(rx.foreach(state.point_rows, point_row)),
                width="100%",
            ),
            overflow_x="auto",
            width="100%",
        ),
        components.empty_state(
            "No meters yet: they appear when the edge uploads readings or an admin adds them.", "meters-empty"
        ),
    )
