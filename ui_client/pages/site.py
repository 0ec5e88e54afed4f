"""Site page: meters with last values and reachability, live power chart, per-meter history with CSV."""

import logging
from datetime import timedelta
from typing import Any

import reflex as rx

from ui_client import components, queries
from ui_client.energy_format import CSV_HEADER, demand_series, energy_bars, energy_csv_rows, energy_periods
from ui_client.errors import UiClientError
from ui_client.format import (
    ago,
    choose_resolution,
    is_power,
    kw,
    meter_point_rows,
    range_bounds,
    sum_per_minute,
    to_csv,
)
from ui_client.pages.site_alerting import site_alerting_panel
from ui_client.pages.site_charts import (
    demand_panel,
    energy_panel,
    history_panel,
    live_power_chart,
    points_table,
)
from ui_client.state import SessionState
from ui_common.clock import utcnow
from ui_common.components import empty_state
from ui_common.format import (
    add_chart_point,
    local_time,
    number,
    parse_ts,
    simulated_band,
    simulated_note,
    unique_labels,
    unit_symbol,
    zone_label,
)

logger = logging.getLogger(__name__)
LIVE_POINTS = 120
MAX_PAGES = 6
MAX_SEED_POINTS = 8
SEED_WINDOW = timedelta(minutes=30)


class SiteState(SessionState):
    """One site's meters, its live power and the history of a chosen meter point."""

    site_name: str = ""
    site_status: str = "unknown"
    site_ago: str = ""
    site_info: str = ""
    site_stale: bool = False
    time_axis: str = "time, UTC"
    history_unit: str = ""
    _units: dict[str, str] = {}
    meters_href: str = ""
    point_rows: list[dict[str, str]] = []
    power_series: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    history_note: str = ""
    history_band: list[str] = ["", ""]  # [first, last] labels of simulated readings (demo history) to shade
    energy_band: list[str] = ["", ""]
    simulated_text: str = ""
    point_choices: list[str] = []
    selected_point: str = ""
    range_choice: str = "24h"
    custom_start: str = ""
    custom_end: str = ""
    loading: bool = False
    history_loading: bool = False
    not_found: bool = False
    live: bool = False
    _site: dict[str, Any] = {}
    _point_keys: dict[str, list[str]] = {}
    _power: dict[str, float] = {}
    _csv_rows: list[list[Any]] = []
    _watching: str = ""
    energy_resolution: str = "DAY"
    energy_bars: list[dict[str, Any]] = []
    energy_note: str = ""
    energy_loading: bool = False
    _energy_csv: list[list[Any]] = []
    demand: list[dict[str, Any]] = []
    demand_peak_t: str = ""
    demand_peak_kw: str = ""  # recharts' ReferenceDot takes y as str | int
    demand_note: str = ""

    def _site_id(self) -> str:
        return self._path().rsplit("/", 1)[-1]

    def _wanted(self) -> bool:
        return (
            self._path().startswith("/site/")
            and str(self._site.get("id", "")) == self._site_id()
            and super()._wanted()
        )

    def _show_site(self) -> None:
        site = self._site
        self.site_name = site.get("name", "")
        self.meters_href = f"/admin/meters/{site.get('id', '')}"
        self.site_status = site.get("status") or "unknown"
        self.site_ago = ago(site.get("lastHeartbeatAt"), utcnow())
        self.site_stale = bool(site.get("stale")) and self.site_status in ("online", "degraded")
        self.time_axis = f"time, {zone_label(site.get('timezone'))}"
        self._units = {
            f"{m.get('name') or m['externalId']} / {p['name']}": unit_symbol(p.get("unit"))
            for m in site.get("meters") or [] for p in m.get("dataPoints") or []
        }  # fmt: skip
        self.site_info = (
            f"{site.get('metersReachable') or 0}/{site.get('metersTotal') or 0} meters reachable · "
            f"queue {site.get('queueDepth') if site.get('queueDepth') is not None else '–'} · "
            f"today {number(site.get('todayEnergyKwh'), 1)} kWh · times in {zone_label(site.get('timezone'))}"
        )
        self.simulated_text = simulated_note(
            site.get("simulatedFrom"), site.get("simulatedUntil"), site.get("timezone")
        )
        rows, keys = meter_point_rows(site.get("meters") or [], utcnow(), site.get("timezone") or "UTC")
        self.point_rows = rows
        self._point_keys = keys
        self.point_choices = list(keys)
        if self.selected_point not in keys:
            self.selected_point = self.point_choices[0] if self.point_choices else ""

    def _band(self, points: list[dict[str, Any]]) -> list[str]:
        return simulated_band(points, self._site.get("simulatedFrom"), self._site.get("simulatedUntil"))

    async def _refetch(self) -> None:
        data = await self._gql(queries.SITE, {"id": self._site_id()})
        self._site = data.get("site") or self._site
        self._show_site()

    @rx.event
    async def load(self):
        """Fetch the site, its meters and the default history, then follow new readings live."""
        self.loading = True
        self.not_found = False
        self.live = False
        self.power_series = []
        self._power = {}
        self.history = []
        yield
        try:
            data = await self._gql(queries.SITE, {"id": self._site_id()})
            self._site = data.get("site") or {}
            self.not_found = not self._site
            if self._site:
                self._show_site()
        except UiClientError as err:
            yield self._fail(err)
            return
        finally:
            self.loading = False
        if self._site:
            await self._seed_power()
            yield SiteState.load_history
            yield SiteState.load_energy
            yield SiteState.watch

    async def _seed_power(self) -> None:
        """Start the live power chart with the last half hour of the power points, summed per minute."""
        end = utcnow()
        series: dict[str, list[tuple[str, float]]] = {}
        for meter in self._site.get("meters") or []:
            for point in meter.get("dataPoints") or []:
                if not is_power(point.get("unit"), point["name"]) or len(series) >= MAX_SEED_POINTS:
                    continue
                key = f"{meter['externalId']}/{point['name']}"
                if point.get("lastValue") is not None:
                    self._power[key] = kw(point["lastValue"], point.get("unit"))
                variables = {
                    "meterId": str(meter["id"]),
                    "point": point["name"],
                    "resolution": "RAW",
                    "start": (end - SEED_WINDOW).isoformat(),
                    "end": end.isoformat(),
                    "after": None,
                }
                try:
                    items = (await self._gql(queries.READINGS, variables))["readings"]["items"]
                except UiClientError as err:
                    logger.info("no power history for %s: %s", key, err)
                    continue
                series[key] = [
                    (i["ts"], kw(i["value"], point.get("unit"))) for i in items if i["value"] is not None
                ]
        self.power_series = sum_per_minute(series, self._site.get("timezone") or "UTC")[-LIVE_POINTS:]

    @rx.event
    def set_selected_point(self, value: str):
        """Choose the meter point whose history is shown."""
        self.selected_point = value
        return [SiteState.load_history, SiteState.load_energy]

    @rx.event
    def set_energy_resolution(self, value: str | list[str]):
        """Bars per hour (24 h), day (30 days) or month (a year)."""
        self.energy_resolution = value[0] if isinstance(value, list) else value
        return SiteState.load_energy

    @rx.event
    async def load_energy(self):
        """Consumption (energy registers) or peak demand (power) per bucket, beside the period before."""
        key = self._point_keys.get(self.selected_point)
        if not key:
            return
        self.energy_loading = True
        yield
        pages = []
        try:
            for lo, hi in energy_periods(self.energy_resolution, utcnow()):
                variables = {"meterId": key[0], "point": key[1], "start": lo.isoformat(), "end": hi.isoformat(),
                             "resolution": self.energy_resolution}  # fmt: skip
                pages.append((await self._gql(queries.ENERGY, variables))["energy"])
        except UiClientError as err:
            yield self._fail(err)
            return
        finally:
            self.energy_loading = False
        (current, previous), facts = [p["items"] for p in pages], pages[0]
        cumulative = bool(facts["cumulative"])
        self.energy_bars = energy_bars(
            current, previous, self.energy_resolution, facts["timezone"], cumulative
        )
        self.energy_band = self._band(self.energy_bars)
        self._energy_csv = energy_csv_rows(current, previous, cumulative)
        what = "consumption" if cumulative else "peak 15-minute demand"
        cost = f" · cost in {facts['currency']}" if facts.get("currency") else ""
        self.energy_note = (
            f"{what} per {self.energy_resolution.lower()}, grey: the period before; amber: partial{cost}"
        )
        yield SiteState.load_demand

    @rx.event
    async def load_demand(self):
        """The last 24 h of 15-minute demand of the chosen point, with its peak marked."""
        key = self._point_keys.get(self.selected_point)
        if not key:
            return
        now = utcnow()
        variables = {"meterId": key[0], "point": key[1], "start": (now - timedelta(hours=24)).isoformat(),
                     "end": now.isoformat(), "resolution": "QUARTER_HOUR"}  # fmt: skip
        try:
            page = (await self._gql(queries.ENERGY, variables))["energy"]
        except UiClientError as err:
            yield self._fail(err)
            return
        self.demand, peak = demand_series(page["items"], page["timezone"])
        self.demand_peak_t = peak["t"] if peak else ""
        self.demand_peak_kw = str(peak["kw"]) if peak else ""
        self.demand_note = f"peak {peak['kw']:.1f} at {peak['t']} ({page['timezone']})" if peak else ""

    @rx.event
    def download_energy_csv(self):
        """Download the bars the consumption chart shows, with a total row."""
        name = self.selected_point.replace(" / ", "_").replace(" ", "-") or "energy"
        text = to_csv(CSV_HEADER, self._energy_csv)
        return rx.download(data=text, filename=f"{name}-{self.energy_resolution.lower()}.csv")

    @rx.event
    def set_range_choice(self, value: str | list[str]):
        """Choose 24h, 7d, 30d or custom."""
        value = value[0] if isinstance(value, list) else value
        self.range_choice = value
        if value != "custom":
            return SiteState.load_history
        return None

    @rx.event
    def set_custom_start(self, value: str):
        """Start date of a custom range."""
        self.custom_start = value

    @rx.event
    def set_custom_end(self, value: str):
        """End date of a custom range."""
        self.custom_end = value

    @rx.event
    async def load_history(self):
        """Fetch the chosen point's readings over the chosen range at a resolution fit for a chart."""
        key = self._point_keys.get(self.selected_point)
        if not key:
            return
        try:
            start, end = range_bounds(self.range_choice, utcnow(), self.custom_start, self.custom_end)
        except ValueError as err:
            self.history_note = str(err)
            return
        resolution = choose_resolution(start, end)
        self.history_loading = True
        yield
        items, after = [], None
        try:
            for _ in range(MAX_PAGES):
                variables = {"meterId": key[0], "point": key[1], "start": start.isoformat(),
                             "end": end.isoformat(), "resolution": resolution, "after": after}  # fmt: skip
                page = (await self._gql(queries.READINGS, variables))["readings"]
                items.extend(page["items"])
                after = page["pageInfo"]["endCursor"]
                if not page["pageInfo"]["hasNextPage"]:
                    break
        except UiClientError as err:
            yield self._fail(err)
            return
        finally:
            self.history_loading = False
        fmt = "%H:%M" if end - start <= timedelta(hours=24) else "%m-%d %H:%M"
        tz_name = self._site.get("timezone") or "UTC"
        self.history_unit = self._units.get(self.selected_point, "")
        self.history = unique_labels(
            [
                {"t": local_time(ts, tz_name, fmt), "value": round(float(i["value"]), 4), "ts": i["ts"]}
                for i in items
                if i.get("value") is not None and (ts := parse_ts(i["ts"])) is not None
            ]
        )
        self.history_band = self._band(self.history)
        self._csv_rows = [[i["ts"], i["value"], i.get("min"), i.get("max"), i.get("count")] for i in items]
        self.history_note = f"{len(items)} points, resolution {resolution.lower()}" if items else ""

    @rx.event
    def download_csv(self):
        """Download the readings the chart shows."""
        name = self.selected_point.replace(" / ", "_").replace(" ", "-") or "readings"
        text = to_csv(["timestamp", "value", "min", "max", "count"], self._csv_rows)
        return rx.download(data=text, filename=f"{name}.csv")

    async def _on_readings(self, event: dict[str, Any] | None) -> None:
        self.live = True
        if not event:
            self.site_ago = ago(self._site.get("lastHeartbeatAt"), utcnow())
            return
        latest = event["readingsAdded"].get("latest") or []
        for item in latest:
            for row in self.point_rows:
                if row["external_id"] == item["meterExternalId"] and row["point"] == item["dataPoint"]:
                    row["value"] = number(item["value"], 2)
                    tz_name = self._site.get("timezone") or "UTC"
                    row["when"] = (
                        f"{local_time(item['ts'], tz_name, '%H:%M:%S')} · {ago(item['ts'], utcnow())}"
                    )
                    row["stale"] = ""
            if is_power(item.get("unit"), item["dataPoint"]):
                self._power[f"{item['meterExternalId']}/{item['dataPoint']}"] = kw(
                    item["value"], item.get("unit")
                )
        self.point_rows = list(self.point_rows)
        if self._power and any(is_power(i.get("unit"), i["dataPoint"]) for i in latest):
            now_local = local_time(utcnow(), self._site.get("timezone") or "UTC", "%H:%M:%S")
            point = {"t": now_local, "kw": round(sum(self._power.values()), 3)}
            self.power_series = add_chart_point(self.power_series, point, LIVE_POINTS)

    @rx.event(background=True)
    async def watch(self):
        """Follow readingsAdded for this site while the tab shows it; stops itself otherwise."""
        async with self:
            site_id = self._site_id()
        try:
            await self._follow(queries.READINGS_ADDED, {"siteId": site_id}, "_watching", self._on_readings)
        finally:
            async with self:
                self.live = bool(self._watching)


def site_page() -> rx.Component:
    """The site page."""
    return components.page(
        components.loading(SiteState.loading),
        rx.cond(
            SiteState.not_found,
            empty_state("This site does not exist or was removed.", "site-missing"),
            rx.vstack(
                rx.hstack(
                    rx.heading(SiteState.site_name, size="5", data_testid="site-title"),
                    components.status_badge(SiteState.site_status),
                    rx.text("last heartbeat ", SiteState.site_ago, size="2", color_scheme="gray"),
                    rx.cond(
                        SiteState.site_stale,
                        rx.badge("stale", color_scheme="orange", data_testid="site-stale"),
                    ),
                    rx.link(
                        "Meters and inventory history",
                        href=SiteState.meters_href,
                        size="2",
                        data_testid="site-meters-link",
                    ),  # fmt: skip
                    align="center",
                    wrap="wrap",
                ),
                rx.text(SiteState.site_info, size="2"),
                rx.cond(
                    SiteState.simulated_text != "",
                    rx.callout(
                        SiteState.simulated_text + ": shaded 'simulated' on the charts.",
                        icon="flask_conical",
                        color_scheme="orange",
                        data_testid="simulated-note",
                        width="100%",
                    ),
                ),
                site_alerting_panel(),
                points_table(SiteState),
                live_power_chart(SiteState),
                history_panel(SiteState),
                energy_panel(SiteState),
                demand_panel(SiteState),
                spacing="4",
                width="100%",
            ),
        ),
        title="Site",
    )
