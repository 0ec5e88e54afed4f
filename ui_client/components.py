"""Building blocks shared by the pages: page frame with navigation, banners, badges, empty states."""

import reflex as rx

from ui_client.state import SessionState

STATUS_COLORS = {"online": "green", "degraded": "amber", "offline": "red", "unknown": "gray"}


def status_badge(status) -> rx.Component:
    """A coloured badge for online / degraded / offline / unknown."""
    return rx.badge(
        status,
        color_scheme=rx.match(status, ("online", "green"), ("degraded", "amber"), ("offline", "red"), "gray"),
        variant="solid",
        data_testid="site-status",
    )


def nav_link(text: str, href: str) -> rx.Component:
    """A link in the top bar."""
    return rx.link(text, href=href, size="3", weight="medium")


def navbar() -> rx.Component:
    """Top bar: sections, the signed-in user, logout."""
    return rx.flex(
        rx.heading("MeterIT", size="5"),
        nav_link("Overview", "/"),
        nav_link("Alerts", "/alerts"),
        rx.cond(
            SessionState.is_admin,
            rx.hstack(nav_link("Sites admin", "/admin"), nav_link("Users", "/admin/users"), spacing="4"),
        ),
        rx.spacer(),
        rx.text(SessionState.email, size="2", color_scheme="gray"),
        rx.button("Log out", on_click=SessionState.logout, variant="soft", size="1", data_testid="logout"),
        align="center",
        spacing="4",
        wrap="wrap",
        padding="0.75em 1.5em",
        border_bottom="1px solid var(--gray-5)",
        width="100%",
    )


def error_banner() -> rx.Component:
    """The page's error, if any, in words a user understands."""
    return rx.cond(
        SessionState.error != "",
        rx.callout(
            rx.hstack(
                rx.text(SessionState.error),
                rx.button("Dismiss", size="1", variant="ghost", on_click=SessionState.dismiss_error),
            ),
            icon="triangle_alert",
            color_scheme="red",
            data_testid="error-banner",
        ),
    )


def empty_state(text: str, testid: str = "empty-state") -> rx.Component:
    """What a list shows when it has nothing yet."""
    return rx.center(rx.text(text, color_scheme="gray"), padding="2em", data_testid=testid)


def loading(is_loading) -> rx.Component:
    """A spinner while data is being fetched."""
    return rx.cond(is_loading, rx.hstack(rx.spinner(), rx.text("Loading…", color_scheme="gray")))


def stat(label: str, value, testid: str) -> rx.Component:
    """A count at the top of a page."""
    return rx.card(
        rx.vstack(
            rx.text(label, size="2", color_scheme="gray"),
            rx.heading(value, size="7", data_testid=testid),
            spacing="1",
        ),
        min_width="10em",
    )


def page(*children, title: str) -> rx.Component:
    """The frame of a signed-in page: navigation, title, error banner, content."""
    return rx.box(
        navbar(),
        rx.vstack(
            rx.heading(title, size="6"),
            error_banner(),
            *children,
            spacing="4",
            padding="1.5em",
            width="100%",
            max_width="1200px",
            margin="0 auto",
        ),
        width="100%",
    )
