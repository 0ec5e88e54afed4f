"""Alerts panel: open and recent alerts, updated live, with acknowledge."""

import logging
from datetime import datetime
from typing import Any

import reflex as rx

from ui_client import components, queries
from ui_client.errors import UiClientError
from ui_client.format import ago
from ui_client.state import SessionState
from ui_common.clock import utcnow
from ui_common.components import empty_state, table

logger = logging.getLogger(__name__)
ROUTE = "/alerts"
RECENT_LIMIT = 50


def alert_row(alert: dict[str, Any], now: datetime) -> dict[str, str]:
    """Display strings of one alert."""
    return {
        "id": str(alert["id"]),
        "site": alert.get("siteName") or str(alert.get("siteId") or ""),
        "kind": alert.get("kind") or "",
        "severity": alert.get("severity") or "",
        "message": alert.get("message") or "",
        "opened": ago(alert.get("openedAt"), now),
        "state": "resolved" if alert.get("resolvedAt") else "open",
        "acknowledged": f"by {alert.get('acknowledgedBy') or '?'}" if alert.get("acknowledgedAt") else "",
    }


class AlertsState(SessionState):
    """Open and recent alerts and their live subscriptions."""

    open_rows: list[dict[str, str]] = []
    recent_rows: list[dict[str, str]] = []
    loading: bool = False
    loaded: bool = False
    _watching_raised: str = ""
    _watching_resolved: str = ""

    def _wanted(self) -> bool:
        return self._path() == ROUTE and bool(self.token) and self._client_connected()

    async def _fetch(self) -> None:
        now = utcnow()
        opened = await self._gql(queries.ALERTS, {"status": "OPEN", "siteId": None, "limit": 200})
        recent = await self._gql(queries.ALERTS, {"status": "ALL", "siteId": None, "limit": RECENT_LIMIT})
        self.open_rows = [alert_row(a, now) for a in opened.get("alerts") or []]
        self.recent_rows = [alert_row(a, now) for a in recent.get("alerts") or []]
        self.loaded = True

    async def _refetch(self) -> None:
        await self._fetch()

    @rx.event
    async def load(self):
        """Fetch alerts, then follow alertRaised and alertResolved."""
        self.loading = True
        self.loaded = False
        yield
        try:
            await self._fetch()
        except UiClientError as err:
            yield self._fail(err)
        finally:
            self.loading = False
        yield AlertsState.watch_raised
        yield AlertsState.watch_resolved

    @rx.event
    async def acknowledge(self, alert_id: str):
        """Acknowledge one alert."""
        try:
            await self._gql(queries.ACKNOWLEDGE, {"id": alert_id})
            await self._fetch()
        except UiClientError as err:
            return self._fail(err)
        return None

    async def _on_event(self, event: dict[str, Any] | None) -> None:
        if event:
            await self._fetch()

    @rx.event(background=True)
    async def watch_raised(self):
        """Refresh when an alert is raised, while this tab shows the panel."""
        await self._follow(queries.ALERT_RAISED, None, "_watching_raised", self._on_event)

    @rx.event(background=True)
    async def watch_resolved(self):
        """Refresh when an alert is resolved, while this tab shows the panel."""
        await self._follow(queries.ALERT_RESOLVED, None, "_watching_resolved", self._on_event)


def _ack_cell(a) -> rx.Component:
    return rx.cond(
        a["acknowledged"] == "",
        rx.button("Acknowledge", size="1", on_click=AlertsState.acknowledge(a["id"]), data_testid="ack"),
        rx.text(a["acknowledged"], size="2"),
    )


def _table(rows, with_ack: bool) -> rx.Component:
    return table(
        ["Site", "Kind", "Severity", "Message", "Opened", "State", "Acknowledged"],
        rows,
        lambda a: rx.table.row(
            rx.table.cell(a["site"]),
            rx.table.cell(a["kind"]),
            rx.table.cell(rx.badge(a["severity"])),
            rx.table.cell(a["message"]),
            rx.table.cell(a["opened"]),
            rx.table.cell(a["state"]),
            rx.table.cell(_ack_cell(a) if with_ack else rx.text(a["acknowledged"], size="2")),
            data_testid="alert-row",
        ),
    )


def alerts_page() -> rx.Component:
    """The alerts panel."""
    return components.page(
        components.loading(AlertsState.loading),
        rx.heading("Open", size="4"),
        rx.cond(
            AlertsState.open_rows.length() > 0,
            _table(AlertsState.open_rows, True),
            rx.cond(AlertsState.loaded, empty_state("No open alerts.", "alerts-open-empty")),
        ),
        rx.heading("Recent", size="4"),
        rx.cond(
            AlertsState.recent_rows.length() > 0,
            _table(AlertsState.recent_rows, False),
            rx.cond(AlertsState.loaded, empty_state("No alerts yet.", "alerts-recent-empty")),
        ),
        title="Alerts",
    )
