"""Sent e-mails (demo only): the alert e-mails `meterit demo` sent to its local mail sink, newest first."""

from typing import Any

import reflex as rx

from ui_client import alerting_queries as q
from ui_client import components
from ui_client.alerting_format import clock_time
from ui_client.errors import UiClientError
from ui_client.state import SessionState
from ui_common.clock import utcnow
from ui_common.components import empty_state


def email_row(mail: dict[str, Any], now) -> dict[str, str]:
    """Display strings of one e-mail."""
    return {
        "id": mail["id"],
        "subject": mail.get("subject") or "(no subject)",
        "sender": mail.get("sender") or "",
        "recipients": mail.get("recipients") or "",
        "sent": clock_time(mail.get("sentAt"), "UTC", now),
        "text": mail.get("text") or "",
    }


class EmailsState(SessionState):
    """The demo's stored e-mails."""

    emails: list[dict[str, str]] = []
    enabled: bool = True
    loaded: bool = False

    async def _fetch(self) -> None:
        box = (await self._gql(q.DEMO_EMAILS)).get("demoEmails") or {}
        now = utcnow()
        self.enabled = bool(box.get("enabled"))
        self.emails = [email_row(m, now) for m in box.get("emails") or []]
        self.loaded = True

    async def _refetch(self) -> None:
        await self._fetch()

    @rx.event
    async def load(self):
        """Fetch the stored e-mails."""
        try:
            await self._fetch()
        except UiClientError as err:
            return self._fail(err)
        return None


def _email(mail) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(mail["subject"], weight="bold", data_testid="email-subject"),
                rx.spacer(),
                rx.text(mail["sent"], size="2", color_scheme="gray", white_space="nowrap"),
                width="100%",
                wrap="wrap",
            ),
            rx.text("From ", mail["sender"], " to ", mail["recipients"], size="2", color_scheme="gray"),
            rx.el.details(
                rx.el.summary("Show the message"),
                rx.el.pre(mail["text"], style={"white_space": "pre-wrap", "font_size": "0.85em"}),
            ),
            spacing="1",
            width="100%",
        ),
        width="100%",
        data_testid="email",
    )


def emails_page() -> rx.Component:
    """The sent e-mails page."""
    return components.page(
        rx.cond(
            EmailsState.enabled,
            rx.text(
                "The alert e-mails this demo sent, as its local mail sink received them (newest first).",
                color_scheme="gray",
            ),
            rx.callout(
                "This server keeps no copy of the e-mails it sends: only `meterit demo` does. Alert e-mails go "
                "to the SMTP server set in SMTP_HOST.",
                icon="info",
                data_testid="emails-off",
            ),
        ),
        rx.button(
            "Refresh", size="1", variant="soft", on_click=EmailsState.load, data_testid="emails-refresh"
        ),
        rx.cond(
            EmailsState.emails.length() > 0,
            rx.vstack(rx.foreach(EmailsState.emails, _email), spacing="2", width="100%"),
            rx.cond(
                EmailsState.loaded & EmailsState.enabled, empty_state("No e-mails sent yet.", "emails-empty")
            ),
        ),
        title="Sent e-mails",
    )
