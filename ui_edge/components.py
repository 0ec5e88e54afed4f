"""Building blocks of every page: navigation, the status strip with its clear states, banners, small tables."""

import reflex as rx

from ui_edge.state import AGENT_DOWN_TEXT, EdgeState


def nav_link(text: str, href: str, testid: str) -> rx.Component:
    """A link in the top bar."""
    return rx.link(text, href=href, size="3", weight="medium", data_testid=testid)


def navbar() -> rx.Component:
    """Top bar: the three sections and the site's name."""
    return rx.flex(
        rx.heading("MeterIT on site", size="5"),
        nav_link("Dashboard", "/", "nav-dashboard"),
        nav_link("Sync", "/sync", "nav-sync"),
        nav_link("Meters", "/meters", "nav-meters"),
        rx.spacer(),
        rx.text(EdgeState.site_name, size="2", color_scheme="gray"),
        align="center",
        spacing="4",
        wrap="wrap",
        padding="0.75em 1.5em",
        border_bottom="1px solid var(--gray-5)",
        width="100%",
    )


def banner(text, color: str, testid: str, icon: str = "triangle_alert") -> rx.Component:
    """A coloured callout for a state the technician must notice."""
    return rx.callout(text, icon=icon, color_scheme=color, data_testid=testid, width="100%")


def state_banners() -> rx.Component:
    """Agent stopped, collection stopped, central unreachable, outbox full: each in its own words."""
    return rx.vstack(
        rx.cond(EdgeState.agent_down, banner(AGENT_DOWN_TEXT, "red", "agent-down")),
        rx.cond(
            ~EdgeState.agent_down & EdgeState.status_loaded & ~EdgeState.collecting,
            banner("Collection is stopped: meters are not being read.", "amber", "collection-stopped"),
        ),
        rx.cond(
            ~EdgeState.agent_down & (EdgeState.central_reachable == "no"),
            banner(
                "Central is "
                + EdgeState.central_text
                + ". Readings stay queued here and are sent when it is back.",
                "orange",
                "central-down",
            ),
        ),
        rx.cond(
            EdgeState.outbox_full,
            banner("The local queue is full: see the outbox policy.", "red", "outbox-full"),
        ),
        rx.cond(
            EdgeState.error != "",
            rx.callout(
                rx.hstack(
                    rx.text(EdgeState.error),
                    rx.button("Dismiss", size="1", variant="ghost", on_click=EdgeState.dismiss_error),
                ),
                icon="circle_alert",
                color_scheme="red",
                data_testid="error-banner",
                width="100%",
            ),
        ),
        width="100%",
        spacing="2",
    )


def stat(label: str, value, testid: str) -> rx.Component:
    """A labelled value in the status strip."""
    return rx.card(
        rx.vstack(
            rx.text(label, size="1", color_scheme="gray"),
            rx.text(value, size="4", weight="bold", data_testid=testid),
            spacing="1",
        ),
        min_width="9em",
    )


def status_strip() -> rx.Component:
    """Collection, last poll, queue and central link at a glance (unknown while the agent does not answer)."""
    running = rx.cond(EdgeState.collecting, "running", "stopped")
    central = rx.match(EdgeState.central_reachable, ("yes", "reachable"), ("no", "unreachable"), "unknown")
    return rx.flex(
        stat("Collection", rx.cond(EdgeState.agent_down, "agent not running", running), "collection-state"),
        stat("Last poll", EdgeState.last_poll, "last-poll"),
        stat("Meters", EdgeState.meters_summary, "meters-summary"),
        stat("Queue", EdgeState.queue_depth, "queue-depth"),
        stat("Central", rx.cond(EdgeState.agent_down, "unknown", central), "central-state"),
        spacing="3",
        wrap="wrap",
        width="100%",
    )


def badge(text, color, testid: str) -> rx.Component:
    """A small solid badge."""
    return rx.badge(text, color_scheme=color, variant="solid", data_testid=testid)


def empty_state(text, testid: str = "empty-state") -> rx.Component:
    """What a list shows when it has nothing yet."""
    return rx.center(rx.text(text, color_scheme="gray"), padding="1.5em", data_testid=testid)


def table(headers: list[str], rows, row_fn, testid: str) -> rx.Component:
    """A simple table with a header row and one row per item."""
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
        rx.table.body(rx.foreach(rows, row_fn)),
        width="100%",
        size="1",
        data_testid=testid,
    )


def page(*children, title: str) -> rx.Component:
    """The frame of a page: navigation, title, clear-state banners, status strip, content."""
    return rx.box(
        navbar(),
        rx.vstack(
            rx.heading(title, size="6"),
            state_banners(),
            status_strip(),
            *children,
            spacing="4",
            padding="1.5em",
            width="100%",
            max_width="1300px",
            margin="0 auto",
        ),
        width="100%",
    )
