"""The page for an unknown address: the navigation and a way back, instead of a bare 404."""

import reflex as rx

from ui_client import components
from ui_common.not_found import not_found_body


def not_found_page() -> rx.Component:
    """404 with the central dashboard's navigation."""
    return components.page(
        *not_found_body("Go to the overview", rx.link("Alerts", href="/alerts")), title="Page not found"
    )
