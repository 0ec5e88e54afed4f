"""'Will alert at' hints for the overview: per site, the soonest coming alert, from the engine's outlook."""

from typing import Any

import reflex as rx

from ui_client import alerting_queries as q
from ui_client import queries
from ui_client.alerting_format import site_hints
from ui_client.errors import UiClientError
from ui_client.state import SessionState
from ui_common.clock import utcnow

REFRESH_TICKS = 6  # refetch the outlook every 6 quiet ticks (30 s); between, only the "in N min" moves


class FleetHintsState(SessionState):
    """Per site id, a short hint: 'meter-002: will alert at 14:05 UTC (in 3 min)' or 'heartbeat missing: alert open'."""

    hints: dict[str, str] = {}
    _outlook: list[dict[str, Any]] = []
    _ticks: int = 0
    _watching_hints: str = ""

    def _wanted(self) -> bool:
        return self._path() == "/" and super()._wanted()

    async def _fetch(self) -> None:
        self._outlook = (await self._gql(q.OUTLOOK, {"siteId": None})).get("alertOutlook") or []
        self.hints = site_hints(self._outlook, utcnow())

    @rx.event
    async def load(self):
        """Fetch the outlook, then keep the hints current."""
        try:
            await self._fetch()
        except UiClientError as err:
            yield self._fail(err)
            return
        yield FleetHintsState.watch_hints

    async def _on_event(self, event: dict[str, Any] | None) -> None:
        self._ticks += 1
        if event or self._ticks % REFRESH_TICKS == 0:
            await self._fetch()
        else:
            self.hints = site_hints(self._outlook, utcnow())

    @rx.event(background=True)
    async def watch_hints(self):
        """Refresh on every status change and alert, and tick the relative times, while the overview shows."""
        await self._follow(queries.SITE_STATUS_CHANGED, None, "_watching_hints", self._on_event)


def site_hint(site_id) -> rx.Component:
    """The hint badge of one site (nothing when no alert is coming)."""
    hint = FleetHintsState.hints[site_id]
    return rx.cond(
        hint,
        rx.badge(
            hint,
            color_scheme=rx.cond(hint.contains("alert open"), "red", "orange"),
            variant="soft",
            white_space="normal",
            data_testid="alert-hint",
        ),
    )
