"""The dates on which the date-sensitive tests run again: each a moment where calendars and clocks turn.

A test asks for the `dated_clock` fixture: it then runs once per moment below with the process clock
(db/clock.py) started at that moment, and derives every date it uses from `dated_clock.now()`.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from db.clock import Clock, FixedClock, clock_from_env

BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")


def _local(zone: ZoneInfo, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=zone).astimezone(UTC)


def chosen_moments() -> dict[str, datetime | None]:
    """Test id -> moment the clock starts at (None: the clock the test process was started with)."""
    return {
        "today": None,
        "month-end": datetime(2027, 4, 30, 22, 30, tzinfo=UTC),  # already 1 May in Berlin
        "berlin-spring": _local(BERLIN, 2027, 3, 28, 12),  # a 23-hour local day
        "berlin-autumn": _local(BERLIN, 2027, 10, 31, 12),  # a 25-hour local day
        "newyork-spring": _local(NEW_YORK, 2027, 3, 14, 12),
        "newyork-autumn": _local(NEW_YORK, 2027, 11, 7, 12),
        "leap-day": datetime(2028, 2, 29, 12, tzinfo=UTC),
        "year-end": datetime(
            2027, 12, 31, 23, 30, tzinfo=UTC
        ),  # 1 January in Berlin, 31 December in New York
        "two-years-ahead": clock_from_env().now() + timedelta(days=731),
    }


def clock_for(moment: datetime | None) -> Clock:
    """A running clock starting at moment, or the process's own clock."""
    return clock_from_env() if moment is None else Clock.starting_at(moment)


class HandClock(FixedClock):
    """The process clock, moved by hand: `clock()` reads it, `advance(seconds)` moves it."""

    def __call__(self) -> datetime:
        return self.now()

    def advance(self, seconds: float) -> datetime:
        """Move forward (back, when negative) and return the new time."""
        return super().advance(timedelta(seconds=seconds))
