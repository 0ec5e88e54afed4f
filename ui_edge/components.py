"""The on-site dashboard's page frame: navigation, the status strip with its clear states, and banners."""

import reflex as rx

from ui_common.components import error_banner, frame, nav_link, stat, top_bar
from ui_edge.state import AGENT_DOWN_TEXT, EdgeState


def navbar() -> rx.Component:
    """Top bar: the three sections, the site's name and the zone every time on the page is in."""
    return top_bar(
        "MeterIT on site",
        nav_link("Dashboard", "/", "nav-dashboard"),
        nav_link("Sync", "/sync", "nav-sync"),
        nav_link("Meters", "/meters", "nav-meters"),
        rx.spacer(),
        rx.text(EdgeState.site_name, size="2", color_scheme="gray"),
        rx.text(
            "times in ",
            rx.text.span(EdgeState.zone_text, weight="medium", data_testid="site-zone"),
            size="2",
            color_scheme="gray",
        ),
    )


def banner(text, color: str, testid: str, icon: str = "triangle_alert") -> rx.Component:
    """A coloured callout for a state the technician must notice."""
    return rx.callout(text, icon=icon, color_scheme=color, data_testid=testid, width="100%")


def agent_button(label: str, on_click, busy, testid: str, **props) -> rx.Component:
    """A button that makes the agent act: spinning while it works, disabled while the agent does not answer."""
    props.setdefault("disabled", EdgeState.agent_down)
    return rx.button(label, on_click=on_click, loading=busy, data_testid=testid, **props)


def state_banners() -> rx.Component:
    """Agent stopped, collection stopped, central unreachable (an alert past the threshold), outbox full."""
    return rx.vstack(
        rx.cond(EdgeState.agent_down, banner(AGENT_DOWN_TEXT, "red", "agent-down")),
        rx.cond(
            ~EdgeState.agent_down & EdgeState.status_loaded & ~EdgeState.collecting,
            banner("Collection is stopped: meters are not being read.", "amber", "collection-stopped"),
        ),
        rx.cond(
            ~EdgeState.agent_down & (EdgeState.outage_alert != ""),
            banner(EdgeState.outage_alert, "red", "central-outage"),
        ),
        rx.cond(
            ~EdgeState.agent_down & (EdgeState.central_reachable == "no") & (EdgeState.outage_alert == ""),
            banner(
                "Central is "
                + EdgeState.central_text
                + ". Readings stay queued here and are sent when it is back.",
                "orange",
                "central-down",
            ),
        ),
        rx.cond(
            ~EdgeState.agent_down & (EdgeState.bbmd_alert != ""),
            banner(EdgeState.bbmd_alert, "orange", "bbmd-unregistered"),
        ),
        rx.cond(
            ~EdgeState.agent_down,
            rx.foreach(EdgeState.edge_alerts, lambda text: banner(text, "red", "edge-alert")),
        ),
        rx.cond(
            EdgeState.outbox_full,
            banner("The local queue is full: see the outbox policy.", "red", "outbox-full"),
        ),
        error_banner(EdgeState.error, EdgeState.dismiss_error, icon="circle_alert"),
        width="100%",
        spacing="2",
    )


def reported(value) -> rx.Var:
    """A status value as the agent reported it: 'unknown' while it does not answer, '–' before it did."""
    return rx.cond(EdgeState.agent_down, "unknown", rx.cond(EdgeState.status_loaded, value, "–"))


def status_strip() -> rx.Component:
    """Collection, last poll, queue and central link at a glance: "unknown" while the agent does not answer,
    never the zeros of a status nobody reported."""
    running = rx.cond(EdgeState.collecting, "running", "stopped")
    central = rx.match(EdgeState.central_reachable, ("yes", "reachable"), ("no", "unreachable"), "unknown")
    return rx.flex(
        stat(
            "Collection",
            rx.cond(
                EdgeState.agent_down, "agent not running", rx.cond(EdgeState.status_loaded, running, "–")
            ),
            "collection-state",
            "4",
        ),
        stat("Last poll", reported(EdgeState.last_poll), "last-poll", "4"),
        stat("Meters", reported(EdgeState.meters_summary), "meters-summary", "4"),
        stat("Queue", reported(EdgeState.queue_depth), "queue-depth", "4"),
        stat("Central", rx.cond(EdgeState.agent_down, "unknown", central), "central-state", "4"),
        spacing="3",
        wrap="wrap",
        width="100%",
    )


def page(*children, title: str) -> rx.Component:
    """The frame of a page: navigation, title, clear-state banners, status strip, content."""
    return frame(navbar(), title, state_banners(), status_strip(), *children, max_width="1300px")
