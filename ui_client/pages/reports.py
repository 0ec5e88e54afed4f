"""Reports page: choose sites and a period, preview the report, download CSV/HTML/Markdown, monthly e-mails."""

import reflex as rx

from ui_client import components
from ui_client.pages.reports_state import ReportsState
from ui_common.components import empty_state, panel, select, table


def _site_choice(site) -> rx.Component:
    return rx.checkbox(
        site["name"],
        checked=site["chosen"] != "",
        on_change=lambda _checked: ReportsState.toggle_site(site["id"]),
        data_testid="report-site",
    )


def _period() -> rx.Component:
    return rx.hstack(
        select(
            ["month", "custom"], ReportsState.period_choice, ReportsState.set_period_choice, "report-period"
        ),
        rx.cond(
            ReportsState.period_choice == "month",
            rx.input(
                type="month",
                value=ReportsState.month,
                on_change=ReportsState.set_month,
                data_testid="report-month",
            ),  # fmt: skip
            rx.hstack(
                rx.input(
                    type="date",
                    value=ReportsState.first_day,
                    on_change=ReportsState.set_first_day,
                    data_testid="report-first-day",
                ),  # fmt: skip
                rx.text("to"),
                rx.input(
                    type="date",
                    value=ReportsState.last_day,
                    on_change=ReportsState.set_last_day,
                    data_testid="report-last-day",
                ),  # fmt: skip
                align="center",
            ),
        ),
        rx.button("Preview", on_click=ReportsState.preview, data_testid="report-preview"),
        align="center",
        wrap="wrap",
    )


def _preview() -> rx.Component:
    return rx.cond(
        ReportsState.rows.length() > 0,
        rx.vstack(
            rx.text(ReportsState.note, size="2", color_scheme="gray", data_testid="report-note"),
            table(
                ["Site", "Energy kWh", "Cost", "Completeness", "Days"],
                ReportsState.rows,
                lambda r: rx.table.row(
                    rx.table.cell(
                        r["site"],
                        rx.cond(
                            r["simulated"] != "",
                            rx.badge(
                                r["simulated"],
                                color_scheme="orange",
                                margin_left="0.5em",
                                data_testid="report-simulated",
                            ),
                        ),
                    ),
                    rx.table.cell(r["kwh"]),
                    rx.table.cell(r["cost"]),
                    rx.table.cell(r["completeness"]),
                    rx.table.cell(r["days"]),
                    data_testid="report-row",
                ),  # fmt: skip
                testid="report-table",
            ),
            rx.hstack(
                rx.button("Download CSV", on_click=ReportsState.download_csv, data_testid="report-csv"),
                rx.button(
                    "Download HTML",
                    on_click=ReportsState.download_html,
                    variant="soft",
                    data_testid="report-html",
                ),  # fmt: skip
                rx.button(
                    "Download Markdown",
                    on_click=ReportsState.download_markdown,
                    variant="soft",
                    data_testid="report-markdown",
                ),  # fmt: skip
            ),
            width="100%",
        ),
        empty_state("Choose sites and a period, then Preview.", "report-empty"),
    )


def _schedules() -> rx.Component:
    return panel(
        "Monthly e-mail",
        rx.text(
            "Sent on the 1st (the site's time zone; UTC for several sites) for the month before, "
            "with the report as CSV and HTML. Sites: those chosen above, or all.",
            size="2",
        ),  # fmt: skip
        rx.hstack(
            rx.input(
                placeholder="Recipients, separated by commas",
                value=ReportsState.recipients,
                on_change=ReportsState.set_recipients,
                width="28em",
                data_testid="schedule-recipients",
            ),
            rx.button("Schedule", on_click=ReportsState.add_schedule, data_testid="schedule-add"),
        ),  # fmt: skip
        table(
            ["Recipients", "Sites", "Time zone", "Last sent", ""],
            ReportsState.schedules,
            lambda s: rx.table.row(
                rx.table.cell(s["recipients"]),
                rx.table.cell(s["sites"]),
                rx.table.cell(s["timezone"]),
                rx.table.cell(s["last"]),
                rx.table.cell(
                    rx.button(
                        "Remove",
                        size="1",
                        variant="soft",
                        color_scheme="red",
                        on_click=ReportsState.remove_schedule(s["id"]),
                    )
                ),
                data_testid="schedule-row",
            ),  # fmt: skip
        ),
    )


def reports_page() -> rx.Component:
    """The Reports page."""
    return components.page(
        panel(
            "Report",
            rx.flex(rx.foreach(ReportsState.sites, _site_choice), wrap="wrap", spacing="4"),
            _period(),
            components.loading(ReportsState.loading),
            _preview(),
        ),
        rx.cond(ReportsState.is_admin, _schedules()),
        title="Reports",
    )
