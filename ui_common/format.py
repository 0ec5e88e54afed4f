"""Formatting both dashboards share: timestamps in a site's zone, lengths of time, ages, units, numbers."""

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ui_common.clock import utcnow


def parse_ts(value: str | None) -> datetime | None:
    """An ISO-8601 timestamp as an aware datetime (UTC when it has no zone), or None."""
    if not value:
        return None
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def duration(seconds: float | None, coarse: bool = False) -> str:
    """A length of time: '45 s', '12 min', '3 h 5 min', '2 d 4 h' ('3 h', '2 d' when coarse); '–' for none."""
    if seconds is None:
        return "–"
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        whole, rest = f"{seconds // 3600} h", f" {seconds % 3600 // 60} min"
    else:
        whole, rest = f"{seconds // 86400} d", f" {seconds % 86400 // 3600} h"
    return whole if coarse else whole + rest


def ago(value: str | None, now: datetime | None = None, coarse: bool = False) -> str:
    """How long ago a timestamp was ('12 s ago', '3 h 5 min ago'; '3 h ago' when coarse), or 'never'."""
    ts = parse_ts(value)
    if ts is None:
        return "never"
    return f"{duration(((now or utcnow()) - ts).total_seconds(), coarse)} ago"


def number(value: Any, digits: int = 2) -> str:
    """A number with fixed decimals and thousands separators, or an en dash when there is none."""
    if value is None or value == "":
        return "–"
    try:
        return f"{float(value):,.{digits}f}"
    except (TypeError, ValueError):
        return str(value)


# BACnet engineering units (bacpypes3 spelling) as people write them; others are shown as they are.
UNIT_SYMBOLS = {
    "watts": "W", "kilowatts": "kW", "megawatts": "MW", "watt-hours": "Wh", "kilowatt-hours": "kWh",
    "megawatt-hours": "MWh", "volts": "V", "kilovolts": "kV", "amperes": "A", "milliamperes": "mA",
    "hertz": "Hz", "volt-amperes": "VA", "kilovolt-amperes": "kVA", "volt-amperes-reactive": "var",
    "kilovolt-amperes-reactive": "kvar", "kilovolt-ampere-hours": "kVAh", "degrees-celsius": "°C",
    "power-factor": "PF", "percent": "%", "no-units": "",
}  # fmt: skip


def unit_symbol(unit: str | None) -> str:
    """A unit as its symbol ('kilowatt-hours' -> 'kWh'); unknown units unchanged, none as ''."""
    if not unit:
        return ""
    return UNIT_SYMBOLS.get(unit.strip().lower().replace("_", "-"), unit)


def zone(name: str | None) -> ZoneInfo:
    """A time zone by name; UTC when unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def zone_label(name: str | None, at: datetime | None = None) -> str:
    """A zone as people read it: 'Europe/Berlin (CET)', 'UTC'."""
    tz = zone(name)
    short = (at or utcnow()).astimezone(tz).tzname() or ""
    return tz.key if short in ("", tz.key) else f"{tz.key} ({short})"


def local_time(value: str | datetime | None, tz_name: str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A timestamp in a site's zone, e.g. '2026-03-29 03:15'; '–' for none."""
    ts = parse_ts(value) if isinstance(value, str) or value is None else value
    if ts is None:
        return "–"
    return ts.astimezone(zone(tz_name)).strftime(fmt)


def clock(value: str | datetime | None, tz_name: str | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A timestamp in a site's zone with the zone's short name: '2026-03-29 03:15:00 CEST'; '–' for none."""
    return local_time(value, tz_name, f"{fmt} %Z")


def clock_time(value: str | None, tz_name: str | None = "UTC", now: datetime | None = None) -> str:
    """'14:05 CET' on the site's today, '2026-12-07 14:05 CET' on other days (in its zone); '–' for none."""
    ts = parse_ts(value)
    if ts is None:
        return "–"
    local = ts.astimezone(zone(tz_name))
    same_day = now is not None and now.astimezone(zone(tz_name)).date() == local.date()
    return local.strftime("%H:%M %Z" if same_day else "%Y-%m-%d %H:%M %Z")


def unique_labels(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Chart points with one point per label ('t'), the latest kept: a category axis places a band's edges by
    label, which only works while no label repeats (a 24 h chart's first and last minute share one)."""
    last = {p["t"]: i for i, p in enumerate(points)}
    return [p for i, p in enumerate(points) if last[p["t"]] == i]


def simulated_band(points: list[dict[str, Any]], start: str | None, end: str | None) -> list[str]:
    """[first, last] chart label ('t') of the points whose time ('ts') lies in the simulated span, to shade it;
    ['', ''] when none does."""
    first, last = parse_ts(start), parse_ts(end)
    if first is None or last is None:
        return ["", ""]
    inside = [p["t"] for p in points if (ts := parse_ts(p.get("ts"))) is not None and first <= ts <= last]
    return [inside[0], inside[-1]] if inside else ["", ""]


def simulated_note(start: str | None, end: str | None, tz_name: str | None) -> str:
    """'Simulated history (demo) from … to …' in the site's zone, or '' when the site has none."""
    if not (parse_ts(start) and parse_ts(end)):
        return ""
    return f"Simulated history (demo data, not measured) from {clock_time(start, tz_name)} to {clock_time(end, tz_name)}"


def add_chart_point(series: list[dict[str, Any]], point: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    """A live chart's points with `point` added, the newest `limit` of them.

    A point with the same time label as the last replaces it (several values within one second would repeat
    the label along the axis); a point carrying a `ts` older than the last one's is left out (an edge agent
    replays its last minutes after a restart: charted already, and drawn again they run back in time).
    """
    if series:
        last, when = parse_ts(series[-1].get("ts")), parse_ts(point.get("ts"))
        if last is not None and when is not None and when < last:
            return series
        if series[-1]["t"] == point["t"]:
            return [*series[:-1], point][-limit:]
    return [*series, point][-limit:]
