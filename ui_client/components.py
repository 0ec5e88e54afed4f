"""The central dashboard's page frame (navigation for its roles, error banner), status badge and spinner."""

import reflex as rx

from ui_client.state import SessionState
from ui_common.components import badge, error_banner, frame, nav_link, top_bar


def status_badge(status) -> rx.Component:
    """A coloured badge for online / degraded / offline / unknown."""
    color = rx.match(status, ("online", "green"), ("degraded", "amber"), ("offline", "red"), "gray")
    return badge(status, color, "site-status")


def navbar() -> rx.Component:
    """Top bar: sections, the signed-in user, logout."""
    return top_bar(
        "MeterIT",
        nav_link("Overview", "/"),
        nav_link("Alerts", "/alerts"),
        nav_link("Alert rules", "/alert-rules"),
        nav_link("Reports", "/reports"),
        rx.cond(
            SessionState.is_admin,
            rx.hstack(
                nav_link("E-mails", "/emails"),
                nav_link("Sites admin", "/admin"),
                nav_link("Users", "/admin/users"),
                spacing="4",
            ),
        ),
        rx.spacer(),
        rx.link(
            rx.text(SessionState.email, size="2", color_scheme="gray"), href="/account", data_testid="account"
        ),
        rx.button("Log out", on_click=SessionState.logout, variant="soft", size="1", data_testid="logout"),
    )


def loading(is_loading) -> rx.Component:
    """A spinner while data is being fetched."""
    return rx.cond(is_loading, rx.hstack(rx.spinner(), rx.text("Loading…", color_scheme="gray")))


def page(*children, title: str) -> rx.Component:
    """The frame of a signed-in page: navigation, title, error banner, content."""
    return frame(
        navbar(),
        title,
        error_banner(SessionState.error, SessionState.dismiss_error),
        *children,
        max_width="1200px",
    )
