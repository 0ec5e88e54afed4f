"""Pure helpers of the consumption chart: periods, bars beside the previous period, CSV with a total row."""

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ui_common.format import parse_ts

# resolution -> (span shown, strftime of a bar's local start)
ENERGY_VIEWS = {
    "HOUR": (timedelta(hours=24), "%H:%M"),
    "DAY": (timedelta(days=30), "%m-%d"),
    "MONTH": (timedelta(days=365), "%Y-%m"),
}
CSV_HEADER = ["start", "end", "value", "previous", "quality", "completeness", "cost"]


def energy_periods(
    resolution: str, now: datetime
) -> tuple[tuple[datetime, datetime], tuple[datetime, datetime]]:
    """(current, previous) windows of a view: the span up to now, and the span before it."""
    span = ENERGY_VIEWS[resolution][0]
    return (now - span, now), (now - 2 * span, now - span)


def _value(item: dict[str, Any], cumulative: bool) -> float | None:
    value = item.get("consumption") if cumulative else item.get("peakDemand")
    return None if value is None else round(float(value), 3)


def energy_bars(
    current: list[dict], previous: list[dict], resolution: str, timezone: str, cumulative: bool
) -> list[dict[str, Any]]:
    """One bar per current bucket: `value` (complete) or `partial`, with the previous period's bucket beside it.

    The previous period is aligned from the newest bucket backwards, so the last bar faces the same
    position of the period before (hour 23 faces hour 23 of the day before).
    """
    zone, shape = ZoneInfo(timezone or "UTC"), ENERGY_VIEWS[resolution][1]
    offset = len(previous) - len(current)
    bars = []
    for n, item in enumerate(current):
        start = parse_ts(item["start"])
        value = _value(item, cumulative)
        partial = bool(item.get("partial")) or item.get("quality") == "BAD"
        before = previous[n + offset] if 0 <= n + offset < len(previous) else None
        bars.append(
            {
                "t": start.astimezone(zone).strftime(shape) if start else item["start"],
                "value": None if partial else value,
                "partial": value if partial else None,
                "previous": _value(before, cumulative) if before else None,
                "ts": item["start"],  # to place the simulated band
            }
        )
    return bars


def energy_csv_rows(current: list[dict], previous: list[dict], cumulative: bool) -> list[list[Any]]:
    """CSV rows of what the chart shows, then `total` with the sums of both periods and of cost."""
    offset = len(previous) - len(current)
    rows, total, total_before, cost = [], 0.0, 0.0, None
    for n, item in enumerate(current):
        before = previous[n + offset] if 0 <= n + offset < len(previous) else None
        value = _value(item, cumulative)
        prior = _value(before, cumulative) if before else None
        total += value or 0.0
        total_before += prior or 0.0
        if item.get("cost") is not None:
            cost = (cost or 0.0) + item["cost"]
        rows.append(
            [
                item["start"],
                item["end"],
                value,
                prior,
                (item.get("quality") or "").lower(),
                item.get("completeness"),
                item.get("cost"),
            ]  # fmt: skip
        )
    if cumulative:
        rows.append(["total", "", round(total, 3), round(total_before, 3), "", "", cost])
    return rows


def demand_series(items: list[dict], timezone: str) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """15-minute demand points {t, kw} (kW for kWh registers and kW points) and the peak among them."""
    zone = ZoneInfo(timezone or "UTC")
    series = []
    for item in items:
        start = parse_ts(item["start"])
        if start is None or item.get("peakDemand") is None:
            continue
        series.append(
            {"t": start.astimezone(zone).strftime("%H:%M"), "kw": round(float(item["peakDemand"]), 3)}
        )
    peak = max(series, key=lambda p: p["kw"], default=None)
    return series, peak
