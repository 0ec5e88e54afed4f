"""Formatting both dashboards share: timestamps, lengths of time, ages and numbers for people."""

from datetime import UTC, datetime
from typing import Any

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
