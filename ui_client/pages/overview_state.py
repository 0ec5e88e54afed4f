"""State of the overview page: one page of sites from the fleet query, counts, totals and live status."""

import logging
from typing import Any

import reflex as rx

from ui_client import queries
from ui_client.errors import UiClientError
from ui_client.fleet_format import PAGE_SIZE, SORT_LABELS, STATES, chip_label, fleet_card, range_text
from ui_client.state import SessionState
from ui_common.clock import utcnow
from ui_common.format import number

logger = logging.getLogger(__name__)
ROUTE = "/"
REFETCH_TICKS = 6  # ages, meter counts and today's energy change without a status event
MIN_REFETCH_SECONDS = 2.0  # a burst of status events costs one page query, not one each


class OverviewState(SessionState):
    """One page of sites, the fleet's counts and totals, and the live status subscription."""

    _items: list[dict[str, Any]] = []
    rows: list[dict[str, str]] = []
    chips: list[dict[str, str]] = []
    search: str = ""
    sort_key: str = "NAME"
    state_filter: str = ""
    offset: int = 0
    total: int = 0
    site_count: int = 0
    online_count: int = 0
    offline_count: int = 0
    today_kwh: str = "–"
    open_alerts: str = "–"
    range_label: str = ""
    loading: bool = False
    loaded: bool = False
    live: bool = False
    _watching: str = ""
    _ticks: int = 0
    _dirty: bool = False
    _fetched_at: float = 0.0

    @rx.var
    def has_previous(self) -> bool:
        """Whether there is a page before this one."""
        return self.offset > 0

    @rx.var
    def has_next(self) -> bool:
        """Whether there is a page after this one."""
        return self.offset + PAGE_SIZE < self.total

    def _rebuild(self) -> None:
        self.rows = [fleet_card(item) for item in self._items]

    async def _fetch(self) -> None:
        variables = {
            "status": self.state_filter.upper() or None,
            "search": self.search.strip() or None,
            "sort": self.sort_key,
            "first": PAGE_SIZE,
            "offset": self.offset,
        }
        fleet = (await self._gql(queries.FLEET, variables))["fleet"]
        self._items = fleet["items"]
        counts = fleet["counts"]
        self.total = fleet["total"]
        self.site_count = sum(counts.values())
        self.online_count = counts["online"] + counts["degraded"]
        self.offline_count = fleet["sitesOffline"]
        self.today_kwh = f"{number(fleet['todayEnergyKwh'], 1)} kWh"
        self.open_alerts = str(fleet["openAlerts"])
        self.chips = [
            {
                "state": s,
                "label": chip_label(s, counts[s]),
                "selected": "yes" if s == self.state_filter else "",
            }
            for s in STATES
            if counts[s] or s != "unknown" or s == self.state_filter
        ]
        self.range_label = range_text(self.offset, len(self._items), self.total)
        self._dirty = False
        self._fetched_at = utcnow().timestamp()
        self._rebuild()

    async def _refetch(self) -> None:
        await self._fetch()

    async def _reload(self):
        """Fetch the page for the current filters, showing an error instead of raising."""
        try:
            await self._fetch()
            self.error = ""
        except UiClientError as err:
            return self._fail(err)
        return None

    @rx.event
    async def set_search(self, value: str):
        """Filter sites by name (from the first page)."""
        self.search, self.offset = value, 0
        return await self._reload()

    @rx.event
    async def set_sort_key(self, value: str):
        """Order sites by one of SORT_LABELS."""
        self.sort_key, self.offset = (value if value in SORT_LABELS else "NAME"), 0
        return await self._reload()

    @rx.event
    async def toggle_state(self, state: str):
        """Show only sites in this state; again: every site."""
        self.state_filter = "" if self.state_filter == state else state
        self.offset = 0
        return await self._reload()

    @rx.event
    async def next_page(self):
        """The next page of sites."""
        if self.offset + PAGE_SIZE < self.total:
            self.offset += PAGE_SIZE
            return await self._reload()
        return None

    @rx.event
    async def previous_page(self):
        """The previous page of sites."""
        self.offset = max(0, self.offset - PAGE_SIZE)
        return await self._reload()

    @rx.event
    async def load(self):
        """Fetch the first page, then follow status changes live."""
        self.loading = True
        self.live = False
        yield
        try:
            await self._fetch()
            self.error = ""
        except UiClientError as err:
            yield self._fail(err)
        finally:
            self.loading = False
            self.loaded = True
        yield OverviewState.watch

    def _apply_status(self, event: dict[str, Any]) -> None:
        """Show one siteStatusChanged event at once on its card (counts follow with the next page query)."""
        self._dirty = True
        for item in self._items:
            site = item["site"]
            if str(site["id"]) == str(event.get("siteId")):
                for key in ("name", "status", "lastHeartbeatAt", "queueDepth"):
                    if event.get(key) is not None:
                        site[key] = event[key]
                if event.get("status") in ("online", "degraded"):
                    site["ageSeconds"], site["stale"] = 0.0, False  # it was just heard from
                self._rebuild()
                return

    def _wanted(self) -> bool:
        return self._path() == ROUTE and super()._wanted()

    async def _on_status(self, event: dict[str, Any] | None) -> None:
        self.live = True
        if event:
            self._apply_status(event["siteStatusChanged"])
        else:
            self._ticks += 1
        since = utcnow().timestamp() - self._fetched_at
        if (self._dirty and since >= MIN_REFETCH_SECONDS) or (
            event is None and self._ticks % REFETCH_TICKS == 0
        ):
            await self._fetch()

    @rx.event(background=True)
    async def watch(self):
        """Follow siteStatusChanged while this tab shows the overview; stops itself otherwise."""
        try:
            await self._follow(queries.SITE_STATUS_CHANGED, None, "_watching", self._on_status)
        finally:
            async with self:
                self.live = bool(self._watching)
