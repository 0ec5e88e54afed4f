"""Overview page: every site with live status, counts at the top, search and sort."""

import logging
from typing import Any

import reflex as rx

from ui_client import components, queries
from ui_client.errors import NotAuthenticated, UiClientError
from ui_client.format import SORT_KEYS, site_row, sort_sites
from ui_client.pages.alert_hints import site_hint
from ui_client.state import SessionState
from ui_common.clock import utcnow
from ui_common.components import empty_state, stat

logger = logging.getLogger(__name__)
ROUTE = "/"
REFETCH_TICKS = 6


class OverviewState(SessionState):
    """Sites list, counts and the live status subscription of the overview page."""

    _sites: list[dict[str, Any]] = []
    rows: list[dict[str, str]] = []
    search: str = ""
    sort_key: str = "name"
    online_count: int = 0
    site_count: int = 0
    unreachable_meters: int = 0
    open_alerts: str = "–"
    loading: bool = False
    loaded: bool = False
    live: bool = False
    _watching: str = ""
    _ticks: int = 0

    def _refresh_rows(self) -> None:
        now = utcnow()
        needle = self.search.strip().lower()
        shown = [s for s in self._sites if needle in (s.get("name") or "").lower()]
        self.rows = [site_row(s, now) for s in sort_sites(shown, self.sort_key)]
        self.site_count = len(self._sites)
        self.online_count = sum(1 for s in self._sites if s.get("status") == "online")
        self.unreachable_meters = sum(
            max(0, (s.get("metersTotal") or 0) - (s.get("metersReachable") or 0)) for s in self._sites
        )

    @rx.event
    def set_search(self, value: str):
        """Filter sites by name."""
        self.search = value
        self._refresh_rows()

    @rx.event
    def set_sort_key(self, value: str):
        """Order sites."""
        self.sort_key = value
        self._refresh_rows()

    async def _fetch(self) -> None:
        data = await self._gql(queries.SITES, {"search": None})
        self._sites = data.get("sites") or []
        try:
            alerts = await self._gql(queries.ALERTS, {"status": "OPEN", "siteId": None, "limit": 1000})
            self.open_alerts = str(len(alerts.get("alerts") or []))
        except NotAuthenticated:
            raise
        except UiClientError as err:
            logger.info("open alerts unavailable: %s", err)
            self.open_alerts = "–"
        self._refresh_rows()

    async def _refetch(self) -> None:
        await self._fetch()

    @rx.event
    async def load(self):
        """Fetch the sites, then follow status changes live."""
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

    def _apply_status(self, event: dict[str, Any]) -> bool:
        """Merge one siteStatusChanged event; False when the site is not in the list yet."""
        for site in self._sites:
            if str(site["id"]) == str(event.get("siteId")):
                for key in ("name", "status", "lastHeartbeatAt", "queueDepth"):
                    if event.get(key) is not None:
                        site[key] = event[key]
                return True
        return False

    def _wanted(self) -> bool:
        return self._path() == ROUTE and bool(self.token) and self._client_connected()

    async def _on_status(self, event: dict[str, Any] | None) -> None:
        self.live = True
        self._ticks += 1
        if event and not self._apply_status(event["siteStatusChanged"]):
            await self._fetch()
        elif event is None and self._ticks % REFETCH_TICKS == 0:
            # Meter counts and today's energy change without a status event.
            await self._fetch()
        self._refresh_rows()

    @rx.event(background=True)
    async def watch(self):
        """Follow siteStatusChanged while this tab shows the overview; stops itself otherwise."""
        try:
            await self._follow(queries.SITE_STATUS_CHANGED, None, "_watching", self._on_status)
        finally:
            async with self:
                self.live = bool(self._watching)


def site_card(row) -> rx.Component:
    """One site: status, time since heartbeat, queue, meters, today's energy."""
    return rx.link(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.heading(row["name"], size="4", data_testid="site-name"),
                    rx.spacer(),
                    components.status_badge(row["status"]),
                    width="100%",
                ),
                rx.text("Last heartbeat ", rx.text.strong(row["ago"]), size="2", data_testid="site-ago"),
                rx.hstack(
                    rx.text("Queue ", rx.text.strong(row["queue"]), size="2"),
                    rx.text("Meters ", rx.text.strong(row["meters"]), size="2", data_testid="site-meters"),
                    rx.text("Today ", rx.text.strong(row["energy"]), " kWh", size="2"),
                    spacing="4",
                    wrap="wrap",
                ),
                rx.hstack(
                    rx.cond(row["inactive"] != "", rx.badge(row["inactive"], color_scheme="gray")),
                    rx.cond(row["maintenance"] != "", rx.badge(row["maintenance"], color_scheme="blue")),
                ),
                site_hint(row["id"]),
                spacing="2",
                width="100%",
            ),
            width="100%",
        ),
        href="/site/" + row["id"],
        underline="none",
        color_scheme="gray",
        high_contrast=True,
        data_testid="site-card",
        data_site_id=row["id"],
        data_status=row["status"],
    )


def overview_page() -> rx.Component:
    """The overview page."""
    return components.page(
        rx.flex(
            stat(
                "Sites online", f"{OverviewState.online_count} / {OverviewState.site_count}", "count-online"
            ),
            stat("Meters unreachable", OverviewState.unreachable_meters, "count-unreachable"),
            stat("Open alerts", OverviewState.open_alerts, "count-alerts"),
            rx.spacer(),
            rx.badge(
                rx.cond(OverviewState.live, "live", "connecting"),
                color_scheme=rx.cond(OverviewState.live, "green", "gray"),
                data_testid="live-indicator",
            ),
            spacing="3",
            wrap="wrap",
            align="center",
            width="100%",
        ),
        rx.flex(
            rx.input(
                placeholder="Search sites",
                value=OverviewState.search,
                on_change=OverviewState.set_search,
                width="20em",
                max_width="100%",
                data_testid="site-search",
            ),
            rx.select(list(SORT_KEYS), value=OverviewState.sort_key, on_change=OverviewState.set_sort_key),
            spacing="3",
            wrap="wrap",
        ),
        components.loading(OverviewState.loading),
        rx.cond(
            OverviewState.rows.length() > 0,
            rx.grid(
                rx.foreach(OverviewState.rows, site_card),
                columns=rx.breakpoints(initial="1", sm="2", lg="3"),
                spacing="3",
                width="100%",
            ),
            rx.cond(
                OverviewState.loaded & ~OverviewState.loading & (OverviewState.error == ""),
                empty_state("No sites yet. An admin creates them under Sites admin."),
            ),
        ),
        title="Overview",
    )
