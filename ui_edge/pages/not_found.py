"""The page for an unknown address on the on-site dashboard: its navigation and a way back."""

import reflex as rx

from ui_common.not_found import not_found_body
from ui_edge import components


def not_found_page() -> rx.Component:
    """404 with the on-site dashboard's navigation."""
    return components.page(*not_found_body("Go to the dashboard"), title="Page not found")
