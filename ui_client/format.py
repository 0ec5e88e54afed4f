"""Pure helpers of the central dashboard: short ages, chart resolution choice, CSV, site and point rows."""

import csv
import io
from datetime import datetime, timedelta
from typing import Any

from ui_common import format as shared_format
from ui_common.format import local_time, number, parse_ts, unit_symbol

RANGES = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}


def ago(value: str | None, now: datetime) -> str:
    """How long ago, in its largest unit only ('5 min ago', '3 h ago'): cards and tables stay short."""
    return shared_format.ago(value, now, coarse=True)


def choose_resolution(start: datetime, end: datetime) -> str:
    """A resolution that keeps a chart between a few dozen and a few thousand points."""
    span = end - start
    if span <= timedelta(hours=6):
        return "RAW"
    if span <= timedelta(days=2):
        return "MINUTE"
    if span <= timedelta(days=90):
        return "HOUR"
    return "DAY"


def range_bounds(choice: str, now: datetime, custom_start: str = "", custom_end: str = "") -> tuple:
    """(start, end) of a named range, or of the custom dates (YYYY-MM-DD, end inclusive)."""
    if choice in RANGES:
        return now - RANGES[choice], now
    start = parse_ts(custom_start) if custom_start else None
    end = parse_ts(custom_end) if custom_end else None
    if start is None or end is None:
        raise ValueError("choose a start and an end date")
    if len(custom_end) == 10:
        end += timedelta(days=1)
    if end <= start:
        raise ValueError("the end must come after the start")
    return start, end


def to_csv(header: list[str], rows: list[list[Any]]) -> str:
    """CSV text with a header line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def site_row(site: dict[str, Any], now: datetime) -> dict[str, str]:
    """The display strings of one site card."""
    total = site.get("metersTotal") or 0
    return {
        "id": str(site["id"]),
        "name": site.get("name") or "",
        "status": site.get("status") or "unknown",
        "ago": ago(site.get("lastHeartbeatAt"), now),
        "queue": str(site.get("queueDepth") if site.get("queueDepth") is not None else "–"),
        "meters": f"{site.get('metersReachable') or 0}/{total}",
        "energy": number(site.get("todayEnergyKwh"), 1),
        "inactive": "" if site.get("isActive", True) else "deactivated",
        "maintenance": "maintenance" if site.get("maintenance") else "",
        "networks": ", ".join(site.get("allowedNetworks") or []),
    }


def is_power(unit: str | None, point: str) -> bool:
    """Whether a data point measures power (W, kW, MW) rather than energy."""
    u = (unit or "").lower().replace("-", "").replace(" ", "")
    return u in {"w", "kw", "mw", "watts", "kilowatts", "megawatts"} or "power" in point.lower()


def kw(value: float, unit: str | None) -> float:
    """A power value in kW."""
    u = (unit or "").lower()
    if u in {"w", "watts"}:
        return value / 1000
    if u in {"mw", "megawatts"}:
        return value * 1000
    return value


def sum_per_minute(series: dict[str, list[tuple[str, float]]], tz_name: str = "UTC") -> list[dict[str, Any]]:
    """Chart points {t, kw}: per minute, the sum over series of each one's last value in that minute."""
    buckets: dict[str, dict[str, float]] = {}
    for key, points in series.items():
        for ts, value in points:
            parsed = parse_ts(ts)
            if parsed is not None:
                buckets.setdefault(local_time(parsed, tz_name, "%H:%M:00"), {})[key] = value
    return [{"t": t, "kw": round(sum(v.values()), 3)} for t, v in sorted(buckets.items())]


def meter_point_rows(
    meters: list[dict[str, Any]], now: datetime, tz_name: str = "UTC"
) -> tuple[list[dict[str, str]], dict]:
    """Table rows (one per meter point: value with unit symbol, its time in the site's zone, its age and
    staleness, the meter's state from the API) and the history picker's labels -> [meter id, point name]."""
    rows, keys = [], {}
    for meter in meters:
        meter_name = meter.get("name") or meter["externalId"]
        state = meter.get("state") or ("unknown" if meter.get("reachable") is None else "unreachable")
        for point in meter.get("dataPoints") or []:
            keys[f"{meter_name} / {point['name']}"] = [str(meter["id"]), point["name"]]
            last = point.get("lastTs")
            rows.append({
                "meter": meter_name,
                "external_id": meter["externalId"],
                "point": point["name"],
                "value": number(point.get("lastValue"), 2),
                "unit": unit_symbol(point.get("unit")),
                "when": f"{local_time(last, tz_name, '%H:%M:%S')} · {ago(last, now)}" if last else "no data yet",
                "stale": "stale" if last and point.get("stale") else "",
                "reachable": state,
                "error": meter.get("lastError") or "",
            })  # fmt: skip
    return rows, keys
