"""Staleness, the one rule both dashboards show: a value, meter or site is stale past 3 × its own interval."""

from datetime import datetime

STALE_FACTOR = 3.0
MIN_STALE_SECONDS = 30.0  # a 5 s interval would otherwise call a value stale between two polls and an upload


def stale_after(interval_seconds: float | None) -> float:
    """Seconds after which something polled every `interval_seconds` counts as stale."""
    return max(MIN_STALE_SECONDS, STALE_FACTOR * float(interval_seconds or 60.0))


def age_seconds(ts: datetime | None, now: datetime) -> float | None:
    """How old a timestamp is at `now` (never negative), or None when there is none."""
    if ts is None:
        return None
    return max(0.0, (now - ts).total_seconds())


def is_stale(ts: datetime | None, interval_seconds: float | None, now: datetime) -> bool:
    """Whether something last heard of at `ts` is stale (never heard of counts as stale)."""
    age = age_seconds(ts, now)
    return age is None or age > stale_after(interval_seconds)
