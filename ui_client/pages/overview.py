"""Overview page: the fleet, filtered, sorted and paged by the API, with totals and live status."""

import reflex as rx

from ui_client import components
from ui_client.fleet_format import SORT_LABELS
from ui_client.pages.alert_hints import site_hint
from ui_client.pages.overview_state import OverviewState
from ui_client.sparkline import sparkline
from ui_common.components import empty_state, stat

__all__ = ["OverviewState", "overview_page"]


def site_card(row) -> rx.Component:
    """One site: status, age, meters, queue, today's energy and power, open alerts."""
    return rx.link(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.heading(row["name"], size="4", data_testid="site-name", trim="both"),
                    rx.spacer(),
                    components.status_badge(row["status"]),
                    width="100%",
                    align="center",
                ),
                rx.hstack(
                    rx.text("Last heard ", rx.text.strong(row["ago"]), size="2", data_testid="site-ago"),
                    rx.cond(
                        row["stale"] != "", rx.badge("stale", color_scheme="orange", data_testid="site-stale")
                    ),
                    align="center",
                ),
                rx.hstack(
                    rx.text("Meters ", rx.text.strong(row["meters"]), size="2", data_testid="site-meters"),
                    rx.text("Queue ", rx.text.strong(row["queue"]), size="2"),
                    rx.text("Today ", rx.text.strong(row["energy"]), size="2", data_testid="site-energy"),
                    spacing="4",
                    wrap="wrap",
                ),
                sparkline(row["spark"], row["spark_area"], row["peak"]),
                rx.hstack(
                    rx.cond(row["alerts"] != "", rx.badge(row["alerts"], color_scheme="red", variant="soft")),
                    rx.cond(row["inactive"] != "", rx.badge(row["inactive"], color_scheme="gray")),
                    rx.cond(row["maintenance"] != "", rx.badge(row["maintenance"], color_scheme="blue")),
                ),
                site_hint(row["id"]),
                spacing="2",
                width="100%",
            ),
            width="100%",
        ),
        href="/site/" + row["id"],
        underline="none",
        color_scheme="gray",
        high_contrast=True,
        data_testid="site-card",
        data_site_id=row["id"],
        data_status=row["status"],
    )


def chip(item) -> rx.Component:
    """A status filter with its count; pressed while it filters."""
    return rx.button(
        item["label"],
        on_click=OverviewState.toggle_state(item["state"]),
        variant=rx.cond(item["selected"] != "", "solid", "soft"),
        color_scheme=rx.match(
            item["state"],
            ("online", "green"),
            ("degraded", "amber"),
            ("offline", "red"),
            ("maintenance", "blue"),
            "gray",
        ),  # fmt: skip
        size="2",
        radius="full",
        aria_pressed=rx.cond(item["selected"] != "", "true", "false"),
        data_testid="status-chip",
        data_state=item["state"],
    )


def sort_select() -> rx.Component:
    """The order drop-down, with labels for people and the API's keys as values."""
    return rx.select.root(
        rx.select.trigger(aria_label="Sort sites", data_testid="site-sort"),
        rx.select.content(*[rx.select.item(label, value=key) for key, label in SORT_LABELS.items()]),
        value=OverviewState.sort_key,
        on_change=OverviewState.set_sort_key,
    )


def pager() -> rx.Component:
    """Which sites are shown, and buttons to the neighbouring pages."""
    turns = (("Previous", OverviewState.previous_page, OverviewState.has_previous, "page-previous"),
             ("Next", OverviewState.next_page, OverviewState.has_next, "page-next"))  # fmt: skip
    return rx.hstack(
        rx.text(OverviewState.range_label, size="2", color_scheme="gray", data_testid="page-range"),
        rx.spacer(),
        *[
            rx.button(label, on_click=go, disabled=~can, variant="soft", data_testid=tid)
            for label, go, can, tid in turns
        ],
        width="100%",
        align="center",
    )


def overview_page() -> rx.Component:
    """The overview page."""
    return components.page(
        rx.flex(
            stat(
                "Sites online", f"{OverviewState.online_count} / {OverviewState.site_count}", "count-online"
            ),
            stat("Sites offline", OverviewState.offline_count, "count-offline"),
            stat("Energy today", OverviewState.today_kwh, "fleet-energy"),
            stat("Open alerts", OverviewState.open_alerts, "count-alerts"),
            rx.spacer(),
            rx.badge(
                rx.cond(OverviewState.live, "live", "connecting"),
                color_scheme=rx.cond(OverviewState.live, "green", "gray"),
                data_testid="live-indicator",
            ),
            spacing="3",
            wrap="wrap",
            align="center",
            width="100%",
        ),
        rx.flex(rx.foreach(OverviewState.chips, chip), spacing="2", wrap="wrap", data_testid="status-chips"),
        rx.flex(
            rx.input(
                placeholder="Search sites",
                value=OverviewState.search,
                on_change=OverviewState.set_search,
                debounce_timeout=300,
                width="20em",
                max_width="100%",
                data_testid="site-search",
            ),
            sort_select(),
            spacing="3",
            wrap="wrap",
        ),
        components.loading(OverviewState.loading),
        rx.cond(
            OverviewState.rows.length() > 0,
            rx.vstack(
                rx.grid(
                    rx.foreach(OverviewState.rows, site_card),
                    columns=rx.breakpoints(initial="1", sm="2", lg="3"),
                    spacing="3",
                    width="100%",
                ),
                pager(),
                width="100%",
                spacing="3",
            ),
            rx.cond(
                OverviewState.loaded & ~OverviewState.loading & (OverviewState.error == ""),
                rx.cond(
                    OverviewState.site_count > 0,
                    empty_state("No site matches this search and filter.", "no-match"),
                    empty_state("No sites yet. An admin creates them under Sites admin."),
                ),
            ),
        ),
        title="Overview",
    )
