"""What the admin pages share: the admin-only frame shown to everyone else as a refusal."""

import reflex as rx

from ui_client import components
from ui_client.state import SessionState


def admin_only(*children, title: str) -> rx.Component:
    """A page frame whose content only admins see; viewers get a plain refusal."""
    return components.page(
        rx.cond(
            SessionState.is_admin,
            rx.vstack(*children, spacing="4", width="100%"),
            rx.callout(
                "This page needs the admin role. Ask an administrator if you need access.",
                icon="lock",
                color_scheme="amber",
                data_testid="admin-required",
            ),
        ),
        title=title,
    )


def field(label: str, control: rx.Component) -> rx.Component:
    """A labelled form control."""
    return rx.vstack(rx.text(label, size="2", weight="medium"), control, spacing="1")
