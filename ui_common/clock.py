"""The dashboards' clock: system time, shifted like the servers' clock (dashboards import no db/)."""

import os
from datetime import UTC, datetime, timedelta


def utcnow() -> datetime:
    """The current time, aware, UTC; shifted by the offset db/clock.py hands to the processes it starts."""
    offset = os.environ.get("METERIT_CLOCK_OFFSET_SECONDS")
    now = datetime.now(UTC)
    return now + timedelta(seconds=float(offset)) if offset else now
