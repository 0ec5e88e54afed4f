"""The site page's alerting panel: coming alerts ('will alert at'), maintenance windows, the alert history link."""

from typing import Any

import reflex as rx

from ui_client import alerting_queries as q
from ui_client import queries
from ui_client.alerting_components import picker
from ui_client.alerting_format import (
    REPEAT_LABELS,
    default_window,
    from_local_input,
    outlook_row,
    window_row,
)
from ui_client.errors import UiClientError
from ui_client.pages.admin_common import field
from ui_client.state import SessionState
from ui_common.clock import utcnow
from ui_common.components import panel

REPEATS = {label: value for value, label in REPEAT_LABELS.items()}
REFRESH_TICKS = 6


class SiteAlertingState(SessionState):
    """One site's outlook and maintenance windows, and the window being edited."""

    hint_rows: list[dict[str, str]] = []
    window_rows: list[dict[str, str]] = []
    history_href: str = "/alerts"
    timezone: str = "UTC"
    silenced_until: str = ""
    form_id: str = ""  # "" closed, "new", or the id of the window being edited
    form_starts: str = ""
    form_ends: str = ""
    form_repeat: str = "Once"
    form_note: str = ""
    _outlook: list[dict[str, Any]] = []
    _windows: list[dict[str, Any]] = []
    _ticks: int = 0
    _watching_site_alerts: str = ""

    def _site(self) -> str:
        return self._path().rsplit("/", 1)[-1]

    def _wanted(self) -> bool:
        return self._path().startswith("/site/") and super()._wanted()

    def _render(self) -> None:
        now = utcnow()
        self.hint_rows = [outlook_row(e, now) for e in self._outlook]
        self.window_rows = [window_row(w, now) for w in self._windows]
        self.silenced_until = next((w["until"] for w in self.window_rows if w["active"]), "")

    async def _fetch(self) -> None:
        site = self._site()
        self._outlook = (await self._gql(q.OUTLOOK, {"siteId": site})).get("alertOutlook") or []
        self._windows = (await self._gql(q.WINDOWS, {"siteId": site})).get("maintenanceWindows") or []
        sites = (await self._gql(q.SITE_NAMES)).get("sites") or []
        self.timezone = next((s["timezone"] for s in sites if str(s["id"]) == site), "UTC")
        self.history_href = f"/alerts?site={site}&status=all"
        self._render()

    async def _refetch(self) -> None:
        await self._fetch()

    @rx.event
    async def load(self):
        """Fetch the site's outlook and windows, then keep them current."""
        self.form_id = ""
        self._outlook, self._windows, self.hint_rows, self.window_rows = [], [], [], []
        try:
            await self._fetch()
        except UiClientError as err:
            yield self._fail(err)
            return
        yield SiteAlertingState.watch_site_alerts

    async def _on_event(self, event: dict[str, Any] | None) -> None:
        self._ticks += 1
        if event or self._ticks % REFRESH_TICKS == 0:
            await self._fetch()
        else:
            self._render()

    @rx.event(background=True)
    async def watch_site_alerts(self):
        """Refresh on the site's status changes, and tick the times, while its page shows."""
        await self._follow(queries.SITE_STATUS_CHANGED, None, "_watching_site_alerts", self._on_event)

    @rx.event
    def new_window(self):
        """Open the form on a new window (next full hour, two hours)."""
        self.form_starts, self.form_ends = default_window(utcnow(), self.timezone)
        self.form_repeat, self.form_note, self.form_id = "Once", "", "new"

    @rx.event
    def edit_window(self, window_id: str):
        """Open the form on an existing window."""
        row = next((w for w in self.window_rows if w["id"] == window_id), None)
        if row is not None:
            self.form_starts, self.form_ends = row["starts"], row["ends"]
            self.form_repeat, self.form_note, self.form_id = row["repeat"], row["note"], window_id

    @rx.event
    def cancel_window(self):
        """Close the form."""
        self.form_id = ""

    @rx.event
    def set_form_starts(self, value: str):
        """First start, in the site's time."""
        self.form_starts = value

    @rx.event
    def set_form_ends(self, value: str):
        """First end, in the site's time."""
        self.form_ends = value

    @rx.event
    def set_form_repeat(self, value: str):
        """Once, daily or weekly."""
        self.form_repeat = value

    @rx.event
    def set_form_note(self, value: str):
        """Why the site is in maintenance."""
        self.form_note = value

    @rx.event
    async def save_window(self):
        """Create or change the window of the form."""
        starts = from_local_input(self.form_starts, self.timezone)
        ends = from_local_input(self.form_ends, self.timezone)
        if starts is None or ends is None:
            self.error = "Enter a start and an end (date and time)."
            return None
        window = {"startsAt": starts, "endsAt": ends, "repeat": REPEATS.get(self.form_repeat, "NONE"),
                  "note": self.form_note}  # fmt: skip
        try:
            if self.form_id == "new":
                await self._gql(q.CREATE_WINDOW, {"siteId": self._site(), "window": window})
            else:
                await self._gql(q.UPDATE_WINDOW, {"id": self.form_id, "window": window})
            self.form_id, self.error = "", ""
            await self._fetch()
        except UiClientError as err:
            return self._fail(err)
        return None

    @rx.event
    async def delete_window(self, window_id: str):
        """Remove a window."""
        try:
            await self._gql(q.DELETE_WINDOW, {"id": window_id})
            await self._fetch()
        except UiClientError as err:
            return self._fail(err)
        return None


def _hint(h) -> rx.Component:
    return rx.callout(
        rx.text(rx.text.strong(h["hint"]), " · ", h["message"]),
        icon="bell_ring",
        color_scheme=rx.cond(h["state"] == "alert open", "red", "orange"),
        size="1",
        width="100%",
        data_testid="site-alert-hint",
    )


def _window_row(w) -> rx.Component:
    """One window as a wrapping line (reads on a phone as well as on a desktop)."""
    s = SiteAlertingState
    return rx.flex(
        rx.badge(w["status"], color_scheme=rx.cond(w["active"] == "yes", "blue", "gray")),
        rx.text(w["when"], size="2", weight="medium"),
        rx.text(w["repeat"], size="2", color_scheme="gray"),
        rx.text(w["note"], size="2"),
        rx.spacer(),
        rx.cond(
            s.is_admin,
            rx.hstack(
                rx.button("Edit", size="1", variant="soft", on_click=s.edit_window(w["id"]), data_testid="window-edit"),
                rx.button("Delete", size="1", variant="soft", color_scheme="red",
                          on_click=s.delete_window(w["id"]), data_testid="window-delete"),
            ),
        ),
        spacing="3",
        align="center",
        wrap="wrap",
        width="100%",
        padding_y="0.4em",
        border_bottom="1px solid var(--gray-4)",
        data_testid="window-row",
        data_active=w["active"],
    )  # fmt: skip


def _form() -> rx.Component:
    s = SiteAlertingState
    return rx.cond(
        s.form_id != "",
        rx.flex(
            field("Starts (site time)", rx.input(type="datetime-local", value=s.form_starts, on_change=s.set_form_starts, data_testid="window-starts")),
            field("Ends", rx.input(type="datetime-local", value=s.form_ends, on_change=s.set_form_ends, data_testid="window-ends")),
            field("Repeats", picker(list(REPEATS), s.form_repeat, s.set_form_repeat, "window-repeat")),
            field("Note", rx.input(value=s.form_note, on_change=s.set_form_note, max_length=500, data_testid="window-note")),
            rx.button("Save window", on_click=s.save_window, data_testid="window-save"),
            rx.button("Cancel", variant="soft", color_scheme="gray", on_click=s.cancel_window),
            spacing="3",
            wrap="wrap",
            align="end",
        ),
    )  # fmt: skip


def site_alerting_panel() -> rx.Component:
    """Coming alerts, maintenance windows (alerts stay quiet inside them) and the site's alert history."""
    s = SiteAlertingState
    return panel(
        "Alerting",
        rx.foreach(s.hint_rows, _hint),
        rx.hstack(
            rx.text("Maintenance windows (", s.timezone, "): no alerts while one is active.", size="2"),
            rx.spacer(),
            rx.link("Alert history of this site", href=s.history_href, size="2", data_testid="site-alert-history"),
            width="100%",
            wrap="wrap",
        ),
        rx.cond(
            s.silenced_until != "",
            rx.callout(
                rx.text("In maintenance: this site raises no alerts until ", s.silenced_until, "."),
                icon="moon",
                color_scheme="blue",
                size="1",
                width="100%",
                data_testid="site-silenced",
            ),
        ),
        rx.cond(
            s.window_rows.length() > 0,
            rx.vstack(rx.foreach(s.window_rows, _window_row), spacing="0", width="100%"),
            rx.text("No maintenance windows.", size="2", color_scheme="gray", data_testid="windows-empty"),
        ),
        rx.cond(s.is_admin, rx.button("Add maintenance window", size="1", on_click=s.new_window, data_testid="window-new")),
        _form(),
    )  # fmt: skip
