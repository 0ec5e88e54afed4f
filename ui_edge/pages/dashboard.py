"""Local dashboard: every meter with its live values, unit, quality and reachability, and a 24 h chart each."""

import logging
import time
from typing import Any

import reflex as rx

from ui_common.clock import utcnow
from ui_common.components import badge, empty_state, line_chart, select, table
from ui_common.format import (
    add_chart_point,
    ago,
    local_time,
    number,
    parse_ts,
    simulated_band,
    unique_labels,
    unit_symbol,
)
from ui_edge import components, queries
from ui_edge.errors import UiEdgeError
from ui_edge.format import REACHABILITY, clock, quality
from ui_edge.state import EdgeState

logger = logging.getLogger(__name__)

CHART_POINTS = 300
METER_REFRESH_SECONDS = 3.0
PREFERRED_CHART_POINT = "current_kw"
CHART_LABEL = "%m-%d %H:%M:%S"  # 24 h span two days: a time of day alone would repeat (and collapse the band)


def _chart_point(ts: str, value: Any, tz: str) -> dict[str, Any]:
    """A chart point: its time label in the site's zone, its value, and its time (to place the simulated band)."""
    return {"t": local_time(ts, tz or None, CHART_LABEL), "value": round(float(value), 4), "ts": ts}


def _point_row(value: dict[str, Any], tz: str = "") -> dict[str, str]:
    return {
        "point": value["dataPoint"],
        "value": number(value.get("value"), 3),
        "unit": unit_symbol(value.get("unit")),
        "quality": quality(value.get("quality")),
        "when": f"{clock(value.get('ts'), tz or None)} · {ago(value.get('ts'))}",
        "stale": "stale" if value.get("stale") else "",
    }


class DashboardState(EdgeState):
    """Meters, their latest values and the chart of one chosen point per meter."""

    meters: list[dict[str, str]] = []
    points: dict[str, list[dict[str, str]]] = {}
    charts: dict[str, list[dict[str, Any]]] = {}
    bands: dict[str, list[str]] = {}  # per meter, the [first, last] labels of its chart's simulated readings
    point_choices: list[str] = []
    chart_point: str = ""
    loaded: bool = False
    _watching: str = ""  # id of the tab's task following live values (ui_common.follow.taking_over)
    _meters_at: float = 0.0

    def _on_page(self) -> bool:
        return self._path() == "/"

    def _show_meters(self, meters: list[dict[str, Any]]) -> None:
        rows, points, choices = [], {}, []
        for meter in meters:
            state = meter.get("state") or "unknown"
            rows.append({
                "id": meter["externalId"],
                "name": meter.get("name") or meter["externalId"],
                "address": meter.get("bacnetAddress") or "",
                "state": state,
                "reachability": REACHABILITY.get(state, state),
                "last_error": meter.get("lastError") or "",
                "last_seen": ago(meter.get("lastSeenAt")),
            })  # fmt: skip
            known = {v["dataPoint"]: _point_row(v, self.timezone) for v in meter.get("latest") or []}
            for name in meter.get("dataPoints") or []:
                known.setdefault(
                    name,
                    {
                        "point": name,
                        "value": "–",
                        "unit": "",
                        "quality": "–",
                        "when": "no value yet",
                        "stale": "",
                    },
                )
                if name not in choices:
                    choices.append(name)
            if state == "dead":
                for row in known.values():
                    row["quality"] = "stale"
            points[meter["externalId"]] = [known[name] for name in sorted(known)]
        self.meters, self.points, self.point_choices = rows, points, choices
        self._meters_at = time.monotonic()
        if self.chart_point not in choices:
            self.chart_point = (
                PREFERRED_CHART_POINT if PREFERRED_CHART_POINT in choices else (choices or [""])[0]
            )

    async def _fetch_charts(self, meter_ids: list[str], point: str) -> dict[str, list[dict[str, Any]]]:
        charts = {}
        for meter_id in meter_ids:
            data = await self._gql(queries.READINGS, {"meter": meter_id, "point": point})
            charts[meter_id] = unique_labels(
                [
                    _chart_point(r["ts"], r["value"], self.timezone)
                    for r in data["readings"]
                    if parse_ts(r["ts"]) is not None
                ]
            )
        return charts

    def _show_charts(self, charts: dict[str, list[dict[str, Any]]]) -> None:
        self.charts = charts
        self.bands = {
            meter: simulated_band(points, self.simulated_from, self.simulated_until)
            for meter, points in charts.items()
        }

    async def _load_charts(self) -> None:
        self._show_charts(await self._fetch_charts([m["id"] for m in self.meters], self.chart_point))

    @rx.event
    async def load(self):
        """Fetch meters and charts, then follow live values."""
        try:
            self._show_meters((await self._gql(queries.METERS))["meters"])
            await self._load_charts()
            self.loaded = True
        except UiEdgeError as err:
            yield self._fail(err)
        yield DashboardState.watch

    @rx.event
    async def set_chart_point(self, value: str):
        """Chart another data point for every meter."""
        self.chart_point = value
        try:
            await self._load_charts()
        except UiEdgeError as err:
            yield self._fail(err)

    async def _on_values(self, event: dict[str, Any] | None) -> None:
        if event:
            for value in event["liveValues"]:
                rows = self.points.get(value["meterExternalId"])
                if rows is None:
                    continue
                for row in rows:
                    if row["point"] == value["dataPoint"]:
                        row.update(_point_row(value, self.timezone))
                if value["dataPoint"] == self.chart_point:
                    ts = value["ts"] if parse_ts(value["ts"]) else utcnow().isoformat()
                    meter = value["meterExternalId"]
                    point = _chart_point(ts, value["value"], self.timezone)
                    self.charts[meter] = add_chart_point(self.charts.get(meter, []), point, CHART_POINTS)
            self.points = dict(self.points)
            self.charts = dict(self.charts)

    async def _refresh(self) -> None:
        """Every few seconds, re-read meters (reachability, errors) without holding the tab's state lock."""
        if time.monotonic() - self._meters_at < METER_REFRESH_SECONDS:
            return
        try:
            meters = (await self._gql(queries.METERS))["meters"]
            charts = None
            if not self.loaded:
                async with self:
                    self._show_meters(meters)
                    ids, point = [m["id"] for m in self.meters], self.chart_point
                charts = await self._fetch_charts(ids, point)
        except UiEdgeError as err:
            logger.info("meters not refreshed: %s", err)
            return
        async with self:
            self._show_meters(meters)
            if charts is not None:
                self._show_charts(charts)
                self.loaded = True

    @rx.event(background=True)
    async def watch(self):
        """Follow liveValues while this tab shows the dashboard."""
        await self._follow(queries.LIVE_VALUES, "_watching", self._on_values, self._on_page, self._refresh)


def _reachability_badge(meter) -> rx.Component:
    color = rx.match(meter["state"], ("ok", "green"), ("dead", "red"), ("disabled", "gray"), "amber")
    return rx.cond(
        DashboardState.agent_down,
        badge("unknown: agent not running", "gray", "meter-reachability"),
        badge(meter["reachability"], color, "meter-reachability"),
    )


def _point_row_view(row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["point"]),
        rx.table.cell(rx.text(row["value"], weight="bold", data_testid="point-value")),
        rx.table.cell(row["unit"], data_testid="point-unit"),
        rx.table.cell(row["quality"], data_testid="point-quality"),
        rx.table.cell(
            rx.text(row["when"]),
            # With the agent down nothing refreshes these: the last values are not live any more.
            rx.cond(
                DashboardState.agent_down | (row["stale"] != ""),
                rx.badge("stale", color_scheme="orange", data_testid="point-stale"),
            ),
        ),
    )


def _meter_card(meter) -> rx.Component:
    # A meter the periodic re-read just added has no chart yet (and briefly no rows): read them with a default,
    # or the page fails to render as a whole.
    series = DashboardState.charts.get(meter["id"], [])
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(meter["name"], size="4"),
                rx.text(meter["id"], color_scheme="gray", size="2"),
                rx.spacer(),
                _reachability_badge(meter),
                width="100%",
                align="center",
            ),
            rx.text(meter["address"], " · last answer ", meter["last_seen"], size="1", color_scheme="gray"),
            rx.cond(
                meter["state"] == "dead",
                components.banner("Meter not answering: " + meter["last_error"], "red", "meter-dead"),
            ),
            table(
                ["Point", "Value", "Unit", "Quality", "Time"],
                DashboardState.points.get(meter["id"], []),
                _point_row_view,
                "meter-points",
                size="1",
            ),  # fmt: skip
            rx.cond(
                series.length() > 0,
                line_chart(
                    series,
                    "value",
                    "#2563eb",
                    200,
                    auto_scale=True,
                    x_label="time, " + DashboardState.zone_text,
                    band=DashboardState.bands.get(meter["id"], ["", ""]),
                ),
                empty_state("No readings in the last 24 h.", "chart-empty"),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        data_testid="meter-card",
        data_meter=meter["id"],
    )


def dashboard_page() -> rx.Component:
    """The local dashboard."""
    return components.page(
        rx.cond(
            DashboardState.simulated_text != "",
            rx.callout(
                DashboardState.simulated_text,
                icon="flask_conical",
                color_scheme="orange",
                data_testid="simulated-note",
                width="100%",
            ),
        ),
        rx.hstack(
            rx.text("Chart of the last 24 h:", size="2"),
            select(
                DashboardState.point_choices,
                DashboardState.chart_point,
                DashboardState.set_chart_point,
                "chart-point",
            ),
            align="center",
        ),
        rx.cond(
            DashboardState.meters.length() > 0,
            rx.grid(
                rx.foreach(DashboardState.meters, _meter_card),
                columns=rx.breakpoints(initial="1", md="2"),
                spacing="4",
                width="100%",
            ),  # fmt: skip
            rx.cond(
                DashboardState.loaded,
                empty_state("No meters configured yet: add some on the Meters page.", "no-meters"),
            ),
        ),
        title="Local dashboard",
    )
