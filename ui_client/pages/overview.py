"""Overview page: the fleet, filtered, sorted and paged by the API, with totals and live status."""

import logging
from typing import Any

import reflex as rx

from ui_client import components, queries
from ui_client.errors import UiClientError
from ui_client.fleet_format import PAGE_SIZE, SORT_LABELS, STATES, chip_label, fleet_card, range_text
from ui_client.sparkline import sparkline
from ui_client.state import SessionState
from ui_common.clock import utcnow
from ui_common.components import empty_state, stat
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
        return self._path() == ROUTE and bool(self.token) and self._client_connected()

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


def site_card(row) -> rx.Component:
    """One site: status, age, meters, queue, today's energy and power, open alerts."""
    return rx.link(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.heading(row["name"], size="4", data_testid="site-name", trim="both"),
                    rx.spacer(),
                    components.status_badge(row["status"]),
                    width="100%",
                    align="center",
                ),
                rx.hstack(
                    rx.text("Last heard ", rx.text.strong(row["ago"]), size="2", data_testid="site-ago"),
                    rx.cond(
                        row["stale"] != "", rx.badge("stale", color_scheme="orange", data_testid="site-stale")
                    ),
                    align="center",
                ),
                rx.hstack(
                    rx.text("Meters ", rx.text.strong(row["meters"]), size="2", data_testid="site-meters"),
                    rx.text("Queue ", rx.text.strong(row["queue"]), size="2"),
                    rx.text("Today ", rx.text.strong(row["energy"]), size="2", data_testid="site-energy"),
                    spacing="4",
                    wrap="wrap",
                ),
                sparkline(row["spark"], row["spark_area"], row["peak"]),
                rx.hstack(
                    rx.cond(row["alerts"] != "", rx.badge(row["alerts"], color_scheme="red", variant="soft")),
                    rx.cond(row["inactive"] != "", rx.badge(row["inactive"], color_scheme="gray")),
                    rx.cond(row["maintenance"] != "", rx.badge(row["maintenance"], color_scheme="blue")),
                ),
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


def chip(item) -> rx.Component:
    """A status filter with its count; pressed while it filters."""
    return rx.button(
        item["label"],
        on_click=OverviewState.toggle_state(item["state"]),
        variant=rx.cond(item["selected"] != "", "solid", "soft"),
        color_scheme=rx.match(
            item["state"],
            ("online", "green"),
            ("degraded", "amber"),
            ("offline", "red"),
            ("maintenance", "blue"),
            "gray",
        ),  # fmt: skip
        size="2",
        radius="full",
        aria_pressed=rx.cond(item["selected"] != "", "true", "false"),
        data_testid="status-chip",
        data_state=item["state"],
    )


def sort_select() -> rx.Component:
    """The order drop-down, with labels for people and the API's keys as values."""
    return rx.select.root(
        rx.select.trigger(aria_label="Sort sites", data_testid="site-sort"),
        rx.select.content(*[rx.select.item(label, value=key) for key, label in SORT_LABELS.items()]),
        value=OverviewState.sort_key,
        on_change=OverviewState.set_sort_key,
    )


def pager() -> rx.Component:
    """Which sites are shown, and buttons to the neighbouring pages."""
    return rx.hstack(
        rx.text(OverviewState.range_label, size="2", color_scheme="gray", data_testid="page-range"),
        rx.spacer(),
        rx.button(
            "Previous",
            on_click=OverviewState.previous_page,
            disabled=~OverviewState.has_previous,
            variant="soft",
            data_testid="page-previous",
        ),  # fmt: skip
        rx.button(
            "Next",
            on_click=OverviewState.next_page,
            disabled=~OverviewState.has_next,
            variant="soft",
            data_testid="page-next",
        ),  # fmt: skip
        width="100%",
        align="center",
    )


def overview_page() -> rx.Component:
    """The overview page."""
    return components.page(
        rx.flex(
            stat(
                "Sites online", f"{OverviewState.online_count} / {OverviewState.site_count}", "count-online"
            ),
            stat("Sites offline", OverviewState.offline_count, "count-offline"),
            stat("Energy today", OverviewState.today_kwh, "fleet-energy"),
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
        rx.flex(rx.foreach(OverviewState.chips, chip), spacing="2", wrap="wrap", data_testid="status-chips"),
        rx.flex(
            rx.input(
                placeholder="Search sites",
                value=OverviewState.search,
                on_change=OverviewState.set_search,
                debounce_timeout=300,
                width="20em",
                max_width="100%",
                data_testid="site-search",
            ),
            sort_select(),
            spacing="3",
            wrap="wrap",
        ),
        components.loading(OverviewState.loading),
        rx.cond(
            OverviewState.rows.length() > 0,
            rx.vstack(
                rx.grid(
                    rx.foreach(OverviewState.rows, site_card),
                    columns=rx.breakpoints(initial="1", sm="2", lg="3"),
                    spacing="3",
                    width="100%",
                ),
                pager(),
                width="100%",
                spacing="3",
            ),
            rx.cond(
                OverviewState.loaded & ~OverviewState.loading & (OverviewState.error == ""),
                rx.cond(
                    OverviewState.site_count > 0,
                    empty_state("No site matches this search and filter.", "no-match"),
                    empty_state("No sites yet. An admin creates them under Sites admin."),
                ),
            ),
        ),
        title="Overview",
    )
