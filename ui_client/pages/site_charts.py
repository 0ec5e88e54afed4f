"""Parts of the site page: meter point rows, live site power, per-meter history and consumption with CSV."""

import reflex as rx

from ui_client import components
from ui_common.components import empty_state, line_chart, panel, select, simulated_area, table

RANGE_CHOICES = ["24h", "7d", "30d", "custom"]
ENERGY_CHOICES = [("HOUR", "24 h by hour"), ("DAY", "30 days by day"), ("MONTH", "a year by month")]


def toolbar(*children: rx.Component) -> rx.Component:
    """A panel's controls in one wrapping row, the last one pushed to the right."""
    *left, right = children
    return rx.flex(*left, rx.spacer(), right, spacing="3", wrap="wrap", align="center", width="100%")


def csv_button(on_click, disabled, testid: str) -> rx.Component:
    """The panel's "Download CSV" button."""
    return rx.button(
        "Download CSV", on_click=on_click, variant="outline", disabled=disabled, data_testid=testid
    )


def history_panel(state) -> rx.Component:
    """History of the chosen meter point over the chosen range."""
    return panel(
        "History",
        toolbar(
            select(
                state.point_choices,
                state.selected_point,
                state.set_selected_point,
                "point-select",
                "Meter / point",
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
            csv_button(state.download_csv, state.history.length() == 0, "download-csv"),
        ),
        components.loading(state.history_loading),
        rx.cond(
            state.history.length() > 0,
            rx.box(
                line_chart(
                    state.history,
                    "value",
                    "#10b981",
                    280,
                    y_label=state.history_unit,
                    x_label=state.time_axis,
                    band=state.history_band,
                ),  # fmt: skip
                width="100%",
                data_testid="history-chart",
            ),
            rx.cond(
                ~state.history_loading,
                empty_state("No readings in this range yet.", "history-empty"),
            ),
        ),
        rx.text(state.history_note, size="1", color_scheme="gray"),
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
            line_chart(state.power_series, "kw", "#3b82f6", 220, y_label="kW", x_label=state.time_axis),
            empty_state("Waiting for live power readings from this site…", "power-empty"),
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
        rx.table.cell(
            rx.text(row["when"], size="2"),
            rx.cond(row["stale"] != "", rx.badge("stale", color_scheme="orange", data_testid="point-stale")),
        ),
        rx.table.cell(
            rx.badge(
                row["reachable"],
                color_scheme=rx.match(
                    row["reachable"], ("reachable", "green"), ("stale", "orange"), ("disabled", "gray"), "red"
                ),  # fmt: skip
                data_testid="meter-state",
            ),
            rx.text(row["error"], size="1", color_scheme="gray"),
        ),
    )


POINT_HEADERS = ("Meter", "Point", "Last value", "Unit", "When (site time)", "Meter state")


def points_table(state) -> rx.Component:
    """Every meter point of the site with its last value, or what to expect when there are none."""
    return rx.cond(
        state.point_rows.length() > 0,
        table(POINT_HEADERS, state.point_rows, point_row),
        empty_state(
            "No meters yet: they appear when the edge uploads readings or an admin adds them.", "meters-empty"
        ),
    )


def energy_panel(state) -> rx.Component:
    """Consumption bars per hour/day/month beside the period before, partial buckets in amber, CSV."""
    return panel(
        "Consumption",
        toolbar(
            rx.segmented_control.root(
                *[rx.segmented_control.item(label, value=value) for value, label in ENERGY_CHOICES],
                value=state.energy_resolution,
                on_change=state.set_energy_resolution,
            ),
            csv_button(state.download_energy_csv, state.energy_bars.length() == 0, "download-energy-csv"),
        ),
        components.loading(state.energy_loading),
        rx.cond(
            state.energy_bars.length() > 0,
            rx.box(
                rx.recharts.bar_chart(
                    simulated_area(state.energy_band),
                    rx.recharts.bar(data_key="previous", fill="#cbd5e1", is_animation_active=False),
                    rx.recharts.bar(
                        data_key="value", stack_id="now", fill="#10b981", is_animation_active=False
                    ),
                    rx.recharts.bar(
                        data_key="partial", stack_id="now", fill="#f59e0b", is_animation_active=False
                    ),
                    rx.recharts.x_axis(data_key="t", min_tick_gap=16),
                    rx.recharts.y_axis(width=70),
                    rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
                    rx.recharts.graphing_tooltip(),
                    data=state.energy_bars,
                    width="100%",
                    height=260,
                ),
                width="100%",
                data_testid="energy-chart",
            ),
            rx.cond(~state.energy_loading, empty_state("No consumption in this period yet.", "energy-empty")),
        ),
        rx.text(state.energy_note, size="1", color_scheme="gray"),
    )


def demand_panel(state) -> rx.Component:
    """The last 24 h of 15-minute demand (what utilities bill on), the peak marked."""
    return panel(
        "Demand (15 min)",
        rx.cond(
            state.demand.length() > 0,
            rx.box(
                rx.recharts.line_chart(
                    rx.recharts.line(data_key="kw", is_animation_active=False, dot=False, stroke="#6366f1"),
                    rx.recharts.reference_dot(
                        x=state.demand_peak_t, y=state.demand_peak_kw, r=6, fill="#dc2626", stroke="none"
                    ),
                    rx.recharts.x_axis(data_key="t", min_tick_gap=32),
                    rx.recharts.y_axis(width=70),
                    rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
                    rx.recharts.graphing_tooltip(),
                    data=state.demand,
                    width="100%",
                    height=220,
                ),
                width="100%",
                data_testid="demand-chart",
            ),
            empty_state("No demand in the last 24 hours.", "demand-empty"),
        ),
        rx.text(state.demand_note, size="1", color_scheme="gray", data_testid="demand-peak"),
    )
