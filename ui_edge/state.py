"""Shared state of every page: the agent's status (followed live), the optional login, errors and clear states."""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import reflex as rx

from ui_common.follow import client_connected, follow, taking_over
from ui_common.format import duration, simulated_note
from ui_edge import api, queries
from ui_edge.errors import AgentUnreachable, NotAuthenticated, UiEdgeError
from ui_edge.format import (
    central_text,
    clock,
    edge_alert_texts,
    outage_alert_text,
    sync_result_text,
    zone_text,
)

logger = logging.getLogger(__name__)

RETRY_SECONDS = 3.0
STATUS_STALE_SECONDS = 10.0  # two of the agent's 5 s status pushes missed: the subscription counts as lost
AGENT_DOWN_TEXT = "The edge agent is not running (its local API does not answer). Retrying…"


class EdgeState(rx.State):
    """The agent's status for the status strip, the token when a login is required, and the error banner."""

    token: str = rx.SessionStorage("", name="meterit_edge_token")
    agent_down: bool = False
    login_required: bool = False
    error: str = ""
    status_loaded: bool = False
    collecting: bool = True
    central_reachable: str = "unknown"
    central_text: str = "not contacted yet"
    outage_alert: str = ""
    edge_alerts: list[str] = []
    queue_depth: int = 0
    oldest_age: str = "–"
    dead_letter_count: int = 0
    last_sync_text: str = "no sync yet"
    last_poll: str = "never"
    meters_summary: str = ""
    site_name: str = ""
    outbox_full: bool = False
    bbmd_alert: str = ""
    timezone: str = ""  # the site's zone as central states it; "" until the edge has heard it (UTC shown)
    zone_text: str = "UTC"
    simulated_from: str = ""  # span of the demo's simulated readings at this edge ("" when none)
    simulated_until: str = ""
    simulated_text: str = ""
    _status_watching: str = ""  # id of the tab's task following the status (ui_common.follow.taking_over)

    def _path(self) -> str:
        """The path this tab shows."""
        return self.router.url.path.rstrip("/") or "/"

    def _show_status(self, status: dict[str, Any]) -> None:
        self.status_loaded = True
        self.agent_down = False
        self.collecting = bool(status.get("collecting"))
        reachable = status.get("centralReachable")
        self.central_reachable = "unknown" if reachable is None else ("yes" if reachable else "no")
        self.central_text = central_text(status)
        self.outage_alert = outage_alert_text(status)
        self.edge_alerts = edge_alert_texts(status)
        self.queue_depth = int(status.get("queueDepth") or 0)
        self.oldest_age = duration(status.get("oldestQueuedAgeSeconds"))
        self.dead_letter_count = int(status.get("deadLetterCount") or 0)
        self.last_sync_text = sync_result_text(status)
        self.timezone = status.get("siteTimezone") or ""
        self.zone_text = zone_text(self.timezone)
        self.simulated_from = status.get("simulatedFrom") or ""
        self.simulated_until = status.get("simulatedUntil") or ""
        self.simulated_text = simulated_note(self.simulated_from, self.simulated_until, self.timezone or None)
        self.last_poll = clock(status.get("lastPollAt"), self.timezone)
        self.meters_summary = (
            f"{status.get('metersReachable', 0)} of {status.get('metersTotal', 0)} meters reachable"
        )
        self.site_name = status.get("siteName") or ""
        self.outbox_full = bool(status.get("outboxFull"))
        bbmd, bbmd_state = status.get("bbmdAddress"), status.get("bbmdState")
        self.bbmd_alert = (
            f"Not registered with the BBMD {bbmd} ({bbmd_state}): devices on its subnet are not discovered."
            if bbmd and bbmd_state != "registered"
            else ""
        )

    async def _gql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run one operation with the session's token."""
        return await api.LOCAL.execute(query, variables, token=self.token)

    def _fail(self, err: UiEdgeError):
        """Show an error in words; a needed login sends the tab to the login page."""
        if isinstance(err, NotAuthenticated):
            self.token = ""
            self.login_required = True
            return rx.redirect("/login")
        if isinstance(err, AgentUnreachable):
            self.agent_down = True
            self.error = ""
            return None
        self.error = str(err)
        return None

    @rx.event
    def dismiss_error(self):
        """Hide the error banner."""
        self.error = ""

    @rx.event
    async def load_status(self):
        """Fetch the status once, then follow it live."""
        try:
            data = await self._gql(queries.STATUS)
            self.login_required = bool(data.get("loginRequired"))
            self._show_status(data["status"])
        except UiEdgeError as err:
            yield self._fail(err)
        yield EdgeState.watch_status

    @rx.event(background=True)
    async def watch_status(self):
        """Follow statusChanged while the tab is open (one task per tab; it ends when the tab goes away)."""

        async def _handle(event: dict[str, Any] | None) -> None:
            if event:
                self._show_status(event["statusChanged"])

        # the agent pushes its status at least every 5 s (edge_agent/local_api/live.py STATUS_REFRESH_SECONDS)
        await self._follow(
            queries.STATUS_CHANGED,
            "_status_watching",
            _handle,
            lambda: True,
            stale_seconds=STATUS_STALE_SECONDS,
        )

    async def _follow(
        self,
        query: str,
        flag: str,
        handle: Callable[[dict[str, Any] | None], Awaitable[None]],
        wanted: Callable[[], bool],
        refresh: Callable[[], Awaitable[None]] | None = None,
        stale_seconds: float | None = None,
    ) -> None:
        """Body of a background task: keep a subscription open while the tab wants it, reconnecting on loss.

        `flag` names a backend str holding the id of the task in charge (a newer task of the tab takes over);
        `handle` runs inside `async with self` for every event and with None on each quiet tick; `refresh`
        then runs outside the lock (for fetches that must not block the tab's other events); `wanted()`
        (checked under the lock) ends the task.
        """

        def interrupted(err: Exception) -> bool:
            logger.info("live updates interrupted: %s", err)
            if isinstance(err, AgentUnreachable):
                self.agent_down = True
            elif isinstance(err, NotAuthenticated):
                self.login_required = True
                return True
            return False

        async with taking_over(self, flag) as current:
            async with self:
                token = self.token
            await follow(
                self,
                lambda: api.LOCAL.subscribe(query, token=token),
                lambda: current() and client_connected(self) and wanted(),
                handle,
                interrupted,
                (UiEdgeError,),
                RETRY_SECONDS,
                after=refresh,
                stale_seconds=stale_seconds,
            )
