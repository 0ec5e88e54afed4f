"""Pure helpers for the on-site dashboard: times, ages, numbers, quality and state words."""

from datetime import UTC, datetime
from typing import Any

QUALITY = {0: "good", 1: "uncertain", 2: "bad"}
REACHABILITY = {"ok": "reachable", "dead": "unreachable", "unknown": "not polled yet", "disabled": "disabled"}


def parse_ts(value: str | None) -> datetime | None:
    """An ISO-8601 timestamp as an aware datetime (UTC when it has no zone), or None."""
    if not value:
        return None
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def duration(seconds: float | None) -> str:
    """A length of time for people: '45 s', '12 min', '3 h 5 min', '2 d 4 h'; an en dash for none."""
    if seconds is None:
        return "–"
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h"


def ago(value: str | None, now: datetime | None = None) -> str:
    """How long ago a timestamp was: '12 s ago', or 'never'."""
    ts = parse_ts(value)
    if ts is None:
        return "never"
    return f"{duration(((now or datetime.now(UTC)) - ts).total_seconds())} ago"


def clock(value: str | None) -> str:
    """A timestamp as local-agnostic 'YYYY-MM-DD HH:MM:SS UTC', or an en dash."""
    ts = parse_ts(value)
    return ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if ts else "–"


def number(value: Any, digits: int = 2) -> str:
    """A number with fixed decimals and thousands separators, or an en dash."""
    if value is None or value == "":
        return "–"
    try:
        return f"{float(value):,.{digits}f}"
    except (TypeError, ValueError):
        return str(value)


def quality(code: Any) -> str:
    """good / uncertain / bad for a quality code."""
    try:
        return QUALITY.get(int(code), "bad")
    except (TypeError, ValueError):
        return "unknown"


def central_text(status: dict[str, Any], now: datetime | None = None) -> str:
    """'reachable since …' / 'unreachable since … (for 5 min)' / 'not contacted yet'."""
    reachable = status.get("centralReachable")
    since = clock(status.get("centralSince"))
    if reachable is None:
        return "not contacted yet"
    if reachable:
        refused = status.get("centralState") == "unauthorized"
        return ("answers but refuses the site key" if refused else "reachable") + f" since {since}"
    return f"unreachable since {since} ({ago(status.get('centralSince'), now)})"


def sync_result_text(status: dict[str, Any]) -> str:
    """The last sync's outcome in words."""
    outcome = status.get("lastSyncOutcome")
    if not outcome:
        return "no sync yet"
    when = ago(status.get("lastSyncAt"))
    if status.get("lastSyncSuccess"):
        return f"{outcome} ({when})"
    message = status.get("lastSyncMessage")
    return f"{outcome} ({when})" + (f": {message}" if message else "")


def summary_text(summary: dict[str, Any]) -> str:
    """What Sync now achieved, in one sentence."""
    outcome = summary.get("outcome", "?")
    queue = summary.get("queueDepth", 0)
    if outcome == "ok":
        return (
            f"Sync finished: {summary.get('acknowledged', 0)} readings acknowledged "
            f"({summary.get('new', 0)} new, {summary.get('duplicates', 0)} duplicates, "
            f"{summary.get('rejected', 0)} rejected); {queue} still queued."
        )
    errors = "; ".join(summary.get("errors") or [])
    return f"Sync failed ({outcome}); {queue} readings stay queued." + (f" {errors}" if errors else "")
