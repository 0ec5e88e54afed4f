"""Alerts panel for a working day: one filtered list, acknowledge with a note, resolve, live durations."""

import logging
from typing import Any

import reflex as rx

from ui_client import alerting_queries as q
from ui_client import components, queries
from ui_client.alerting_components import picker
from ui_client.alerting_format import (
    ALL_KINDS,
    ALL_SEVERITIES,
    ALL_SITES,
    SEVERITIES,
    STATUS_LABELS,
    alert_row,
)
from ui_client.errors import UiClientError
from ui_client.state import SessionState
from ui_common.clock import utcnow
from ui_common.components import empty_state, table

logger = logging.getLogger(__name__)
ROUTE = "/alerts"
LIMIT = 300


class AlertsState(SessionState):
    """The filtered alert list, its live subscriptions and the acknowledgement being written."""

    rows: list[dict[str, str]] = []
    site_choices: list[str] = [ALL_SITES]
    kind_choices: list[str] = [ALL_KINDS]
    site_filter: str = ALL_SITES
    kind_filter: str = ALL_KINDS
    severity_filter: str = ALL_SEVERITIES
    status_filter: str = "Open"
    ack_id: str = ""
    ack_note: str = ""
    loading: bool = False
    loaded: bool = False
    _raw: list[dict[str, Any]] = []
    _site_ids: dict[str, str] = {}
    _zones: dict[str, str] = {}  # site id -> its time zone, for the opened times
    _watching_raised: str = ""
    _watching_resolved: str = ""

    def _wanted(self) -> bool:
        return self._path() == ROUTE and super()._wanted()

    def _variables(self) -> dict[str, Any]:
        return {
            "status": STATUS_LABELS.get(self.status_filter, "OPEN"),
            "siteId": self._site_ids.get(self.site_filter),
            "kind": None if self.kind_filter == ALL_KINDS else self.kind_filter,
            "severity": None if self.severity_filter == ALL_SEVERITIES else self.severity_filter,
            "limit": LIMIT,
        }

    def _render(self) -> None:
        now = utcnow()
        self.rows = [alert_row(a, now, self._zones) for a in self._raw]

    async def _fetch(self) -> None:
        data = await self._gql(q.ALERTS, self._variables())
        self._raw = data.get("alerts") or []
        self._render()
        self.loaded = True

    async def _fetch_choices(self) -> None:
        sites = (await self._gql(q.SITE_NAMES)).get("sites") or []
        self._site_ids = {s["name"]: str(s["id"]) for s in sites}
        self._zones = {str(s["id"]): s.get("timezone") or "UTC" for s in sites}
        self.site_choices = [ALL_SITES, *sorted(self._site_ids)]
        rules = (await self._gql(q.RULES)).get("alertRules") or []
        self.kind_choices = [ALL_KINDS, *sorted({r["kind"] for r in rules})]

    async def _refetch(self) -> None:
        await self._fetch()

    @rx.event
    async def load(self):
        """Fetch the filter choices and alerts (a ?site=ID link preselects a site), then follow changes."""
        self.loading, self.loaded, self.ack_id = True, False, ""
        yield
        try:
            await self._fetch_choices()
            params = self.router.url.query_parameters
            wanted = params.get("site", "")
            status = {label.lower(): label for label in STATUS_LABELS}.get(params.get("status", "").lower())
            self.status_filter = status or self.status_filter
            by_id = {v: k for k, v in self._site_ids.items()}
            self.site_filter = by_id.get(wanted, ALL_SITES) if wanted else self.site_filter
            if self.site_filter not in self.site_choices:
                self.site_filter = ALL_SITES
            await self._fetch()
        except UiClientError as err:
            yield self._fail(err)
        finally:
            self.loading = False
        yield AlertsState.watch_raised
        yield AlertsState.watch_resolved

    async def _refilter(self):
        try:
            await self._fetch()
        except UiClientError as err:
            return self._fail(err)
        return None

    @rx.event
    async def set_site_filter(self, value: str):
        """Show one site's alerts (its history, with status All) or every site's."""
        self.site_filter = value
        return await self._refilter()

    @rx.event
    async def set_kind_filter(self, value: str):
        """Show one kind of alert."""
        self.kind_filter = value
        return await self._refilter()

    @rx.event
    async def set_severity_filter(self, value: str):
        """Show one severity."""
        self.severity_filter = value
        return await self._refilter()

    @rx.event
    async def set_status_filter(self, value: str):
        """Open, unacknowledged, acknowledged, resolved or all."""
        self.status_filter = value
        return await self._refilter()

    @rx.event
    def start_ack(self, alert_id: str):
        """Open the acknowledgement form of one alert."""
        self.ack_id, self.ack_note = alert_id, ""

    @rx.event
    def cancel_ack(self):
        """Close the acknowledgement form."""
        self.ack_id = ""

    @rx.event
    def set_ack_note(self, value: str):
        """The note written with the acknowledgement."""
        self.ack_note = value

    @rx.event
    async def acknowledge(self):
        """Acknowledge the alert of the open form, with its note."""
        try:
            await self._gql(q.ACKNOWLEDGE, {"id": self.ack_id, "note": self.ack_note.strip() or None})
            self.ack_id, self.ack_note = "", ""
            await self._fetch()
        except UiClientError as err:
            return self._fail(err)
        return None

    @rx.event
    async def resolve(self, alert_id: str):
        """Close one alert by hand."""
        try:
            await self._gql(q.RESOLVE, {"id": alert_id})
            await self._fetch()
        except UiClientError as err:
            return self._fail(err)
        return None

    async def _on_event(self, event: dict[str, Any] | None) -> None:
        if event:
            await self._fetch()
        else:  # a quiet tick: durations run on without a fetch
            self._render()

    @rx.event(background=True)
    async def watch_raised(self):
        """Refresh when an alert is raised (and tick durations), while this tab shows the panel."""
        await self._follow(queries.ALERT_RAISED, None, "_watching_raised", self._on_event)

    @rx.event(background=True)
    async def watch_resolved(self):
        """Refresh when an alert is resolved, while this tab shows the panel."""
        await self._follow(queries.ALERT_RESOLVED, None, "_watching_resolved", self._on_event)


def _filters() -> rx.Component:
    s = AlertsState
    return rx.flex(
        picker(s.site_choices, s.site_filter, s.set_site_filter, "filter-site"),
        picker(s.kind_choices, s.kind_filter, s.set_kind_filter, "filter-kind"),
        picker([ALL_SEVERITIES, *SEVERITIES], s.severity_filter, s.set_severity_filter, "filter-severity"),
        picker(list(STATUS_LABELS), s.status_filter, s.set_status_filter, "filter-status"),
        spacing="2",
        wrap="wrap",
        width="100%",
    )


def _ack_form() -> rx.Component:
    return rx.cond(
        AlertsState.ack_id != "",
        rx.card(
            rx.flex(
                rx.text("Acknowledge alert #", AlertsState.ack_id, weight="medium"),
                rx.input(
                    placeholder="Note (optional): who is on it, what was done",
                    value=AlertsState.ack_note,
                    on_change=AlertsState.set_ack_note,
                    max_length=1000,
                    width="100%",
                    data_testid="ack-note",
                ),
                rx.hstack(
                    rx.button("Acknowledge", on_click=AlertsState.acknowledge, data_testid="ack-confirm"),
                    rx.button("Cancel", variant="soft", color_scheme="gray", on_click=AlertsState.cancel_ack),
                ),
                direction="column",
                spacing="2",
            ),
            width="100%",
            data_testid="ack-form",
        ),
    )


def _severity(value) -> rx.Component:
    color = rx.match(value, ("critical", "red"), ("warning", "amber"), "gray")
    return rx.badge(value, color_scheme=color)


def _state(value) -> rx.Component:
    color = rx.match(value, ("open", "red"), ("acknowledged", "amber"), "green")
    return rx.badge(value, color_scheme=color, variant="soft", data_testid="alert-state")


def _actions(a) -> rx.Component:
    return rx.hstack(
        rx.cond(
            a["state"] == "open",
            rx.button("Acknowledge", size="1", on_click=AlertsState.start_ack(a["id"]), data_testid="ack"),
        ),
        rx.cond(
            a["state"] != "resolved",
            rx.button(
                "Resolve",
                size="1",
                variant="soft",
                on_click=AlertsState.resolve(a["id"]),
                data_testid="resolve",
            ),  # fmt: skip
        ),
        spacing="2",
    )


def _row(a) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(a["site"], href="/alerts?site=" + a["site_id"])),
        rx.table.cell(a["kind"]),
        rx.table.cell(_severity(a["severity"])),
        rx.table.cell(a["message"], min_width="16em"),
        rx.table.cell(a["opened"], white_space="nowrap"),
        rx.table.cell(a["duration"], white_space="nowrap", data_testid="alert-duration"),
        rx.table.cell(_state(a["state"])),
        rx.table.cell(rx.text(a["ack"], size="2"), data_testid="alert-ack"),
        rx.table.cell(_actions(a)),
        data_testid="alert-row",
        data_alert_id=a["id"],
    )


def _card(a) -> rx.Component:
    """One alert on a phone: the same facts as a table row, stacked."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                _severity(a["severity"]), _state(a["state"]), rx.text(a["site"], weight="bold"), wrap="wrap"
            ),
            rx.text(a["message"], size="2"),
            rx.text(
                a["kind"], " · opened ", a["opened"], " · ", a["duration"], size="1", color_scheme="gray"
            ),
            rx.cond(a["ack"] != "", rx.text(a["ack"], size="1")),
            _actions(a),
            spacing="1",
            width="100%",
        ),
        width="100%",
        data_testid="alert-card",
    )


def _list() -> rx.Component:
    return rx.box(
        rx.tablet_and_desktop(
            table(
                ["Site", "Kind", "Severity", "Message", "Opened", "Duration", "State", "Acknowledged", ""],
                AlertsState.rows,
                _row,
                testid="alerts-table",
            ),
        ),
        rx.mobile_only(rx.vstack(rx.foreach(AlertsState.rows, _card), spacing="2", width="100%")),
        width="100%",
    )


def alerts_page() -> rx.Component:
    """The alerts panel."""
    return components.page(
        _filters(),
        components.loading(AlertsState.loading),
        _ack_form(),
        rx.cond(
            AlertsState.rows.length() > 0,
            _list(),
            rx.cond(AlertsState.loaded, empty_state("No alerts match these filters.", "alerts-empty")),
        ),
        title="Alerts",
    )
