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
