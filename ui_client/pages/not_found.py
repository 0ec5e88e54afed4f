"""The page for an unknown address: the navigation and a way back, instead of a bare 404."""

import reflex as rx

from ui_client import components


def not_found_page() -> rx.Component:
    """404 with the dashboard's navigation."""
    return components.page(
        rx.callout(
            "There is no page at this address. It may have moved, or the link was mistyped.",
            icon="circle_help",
            color_scheme="gray",
            width="100%",
            data_testid="not-found",
        ),
        rx.hstack(
            rx.link("Go to the overview", href="/", data_testid="not-found-home"),
            rx.link("Alerts", href="/alerts"),
            spacing="4",
        ),  # fmt: skip
        title="Page not found",
    )
