"""The page for an unknown address on the on-site dashboard: its navigation and a way back."""

import reflex as rx

from ui_edge import components


def not_found_page() -> rx.Component:
    """404 with the on-site dashboard's navigation."""
    return components.page(
        rx.callout(
            "There is no page at this address. It may have moved, or the link was mistyped.",
            icon="circle_help",
            color_scheme="gray",
            width="100%",
            data_testid="not-found",
        ),
        rx.link("Go to the dashboard", href="/", data_testid="not-found-home"),
        title="Page not found",
    )
