"""One clock per deployable: every read of "now" on either side goes through it, so tests and CI set the date.

Each process (central API, edge agent, simulator, CLI) reads time only from `clock()`. By default that is
the system time. `METERIT_CLOCK_AT` (an ISO date or datetime, UTC when it carries no zone) starts the
process's clock at that moment and lets it run at real speed; the offset is passed on to the processes it
starts (METERIT_CLOCK_OFFSET_SECONDS), so real processes started by a test agree on one time. Only for
fault tests, METERIT_CLOCK_OFFSET_FILE names a file whose offset the running process re-reads (an NTP step). Tests in one process install a fixed or shifted clock with `use_clock()`.

Not the clock: durations between two events in one process (`time.monotonic()`), and timestamps that a
library compares with its own system time (the rate limiter's reset time, cross-process latency marks).
"""

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

CLOCK_ENV = "METERIT_CLOCK_AT"
OFFSET_ENV = "METERIT_CLOCK_OFFSET_SECONDS"
# Fault tests only (meterit soak): a file holding an offset in seconds, re-read while the process runs,
# so a test can step a running process's clock as an NTP step would. Unset, nothing reads any file.
OFFSET_FILE_ENV = "METERIT_CLOCK_OFFSET_FILE"


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


class SteppableClock(Clock):
    """System time shifted by the offset (seconds) written in a file; re-read at most every 0.2 s."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self._checked = -1.0

    def now(self) -> datetime:
        """The current time with the file's latest offset."""
        moment = time.monotonic()
        if moment - self._checked >= 0.2:
            self._checked = moment
            try:
                with open(self.path, encoding="utf-8") as handle:
                    self.offset = timedelta(seconds=float(handle.read().strip() or 0))
            except (OSError, ValueError):
                pass  # a half-written or missing file keeps the last offset
        return datetime.now(UTC) + self.offset


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
    if env.get(OFFSET_FILE_ENV, "").strip():
        return SteppableClock(env[OFFSET_FILE_ENV].strip())
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
