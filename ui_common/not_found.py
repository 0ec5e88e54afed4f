"""The body of both dashboards' 404 page: what happened and a way back (each page frame adds its navigation)."""

import reflex as rx


def not_found_body(home_label: str, *links: rx.Component) -> list[rx.Component]:
    """A short explanation and a link home, plus the dashboard's own links."""
    return [
        rx.callout(
            "There is no page at this address. It may have moved, or the link was mistyped.",
            icon="circle_help",
            color_scheme="gray",
            width="100%",
            data_testid="not-found",
        ),
        rx.hstack(
            rx.link(home_label, href="/", data_testid="not-found-home"), *links, spacing="4", wrap="wrap"
        ),
    ]
