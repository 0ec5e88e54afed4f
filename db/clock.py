"""One clock per deployable: every read of "now" on either side goes through it, so tests and CI set the date.

Each process (central API, edge agent, simulator, CLI) reads time only from `clock()`. By default that is
the system time. `METERIT_CLOCK_AT` (an ISO date or datetime, UTC when it carries no zone) starts the
process's clock at that moment and lets it run at real speed; the offset is passed on to the processes it
starts (METERIT_CLOCK_OFFSET_SECONDS), so real processes started by a test agree on one time. Tests in one process install a fixed or shifted clock with `use_clock()`.

Not the clock: durations between two events in one process (`time.monotonic()`), and timestamps that a
library compares with its own system time (the rate limiter's reset time, cross-process latency marks).
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

CLOCK_ENV = "METERIT_CLOCK_AT"
OFFSET_ENV = "METERIT_CLOCK_OFFSET_SECONDS"


class Clock:
    """System time in UTC, shifted by a fixed offset (zero unless the process was started elsewhere in time)."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.offset = offset

    def now(self) -> datetime:
        """The current time, aware, in UTC."""
        return datetime.now(UTC) + self.offset

    def today(self) -> date:
        """The current UTC date."""
        return self.now().date()

    def timestamp(self) -> float:
        """The current time as POSIX seconds."""
        return self.now().timestamp()

    @classmethod
    def starting_at(cls, moment: datetime) -> "Clock":
        """A clock that reads `moment` now and then runs at real speed."""
        return cls(aware(moment) - datetime.now(UTC))


class FixedClock(Clock):
    """A clock that stands still until a test moves it."""

    def __init__(self, moment: datetime) -> None:
        super().__init__()
        self.moment = aware(moment)

    def now(self) -> datetime:
        """The time the clock was set to."""
        return self.moment

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock by delta (negative steps back, as an NTP step can) and return the new time."""
        self.moment += delta
        return self.moment


def aware(moment: datetime) -> datetime:
    """moment in UTC; a naive value is taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_clock_setting(value: str) -> datetime:
    """The moment named by METERIT_CLOCK_AT: `2028-02-29` (noon UTC) or an ISO datetime."""
    text = value.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC) + timedelta(hours=12)
        return aware(datetime.fromisoformat(text))
    except ValueError as err:
        raise ValueError(f"{CLOCK_ENV}={value!r} is not an ISO date or datetime") from err


def clock_from_env(environ: dict[str, str] | None = None) -> Clock:
    """The process clock the environment asks for; METERIT_CLOCK_AT becomes an offset its children inherit."""
    env = os.environ if environ is None else environ
    offset = env.get(OFFSET_ENV, "").strip()
    if offset:
        return Clock(timedelta(seconds=float(offset)))
    setting = env.get(CLOCK_ENV, "").strip()
    if not setting:
        return Clock()
    shifted = Clock.starting_at(parse_clock_setting(setting))
    # Processes this one starts must keep the same offset, not start the date again at their own start.
    env[OFFSET_ENV] = repr(shifted.offset.total_seconds())
    return shifted


_current: Clock = clock_from_env()


def clock() -> Clock:
    """This process's clock."""
    return _current


def set_clock(new: Clock) -> Clock:
    """Install new as this process's clock; returns the one it replaced."""
    global _current
    previous, _current = _current, new
    return previous


@contextmanager
def use_clock(new: Clock) -> Iterator[Clock]:
    """Run a block with new as the process clock, then put the previous one back."""
    previous = set_clock(new)
    try:
        yield new
    finally:
        set_clock(previous)


def utcnow() -> datetime:
    """The current time from this process's clock, aware, UTC."""
    return _current.now()
