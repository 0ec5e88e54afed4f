"""What the collector learns about each device, kept between polls and forgotten again after a while.

Learned per device: whether it takes ReadPropertyMultiple and how many points per request, how many
requests it takes at once and the gap it needs between them, how long it takes to answer (the timeout) and
how many retries are worth spending on it. Restrictions are lifted again after `reprobe_after`
(a device firmware update, a gateway restarted), so a device is not held to one bad night forever.
"""

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from db.clock import clock

logger = logging.getLogger(__name__)

MAX_POINTS_PER_REQUEST = 64
SILENT_LONG_EVERY = 5


@dataclass(frozen=True)
class Limits:
    """The starting values and bounds every device profile is measured against (from the settings)."""

    timeout: float = 2.0
    max_timeout: float = 10.0
    retries: int = 1
    max_outstanding: int = 4
    points_per_request: int = MAX_POINTS_PER_REQUEST
    reprobe_after: timedelta = timedelta(hours=1)


class Limiter:
    """A semaphore whose size can shrink or grow, with a minimum gap between request starts."""

    def __init__(self, limit: int, gap: float = 0.0) -> None:
        self.limit = limit
        self.gap = gap
        self.active = 0
        self._last_start = 0.0
        self._changed = asyncio.Condition()

    @contextlib.asynccontextmanager
    async def slot(self):
        """Hold one of `limit` slots (waiting for `gap` since the previous start) for the block."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.active < self.limit)
            self.active += 1
            if self.gap > 0:
                wait = self._last_start + self.gap - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
            self._last_start = time.monotonic()
        try:
            yield
        finally:
            async with self._changed:
                self.active -= 1
                self._changed.notify_all()


@dataclass
class DeviceProfile:
    """Learned state of one device (see the module docstring); `units` are the units the device reported."""

    limits: Limits = field(default_factory=Limits)
    rpm: bool = True
    rpm_confirmed: bool = False
    rpm_lost_once: bool = False  # one RPM went unanswered while ReadProperty was answered: asked once more
    points_per_request: int = MAX_POINTS_PER_REQUEST
    timeout: float = 2.0
    retries: int = 1
    max_outstanding: int = 4
    gap: float = 0.0
    slowest_answer: float = 0.0
    silent: bool = False
    silent_polls: int = 0
    restricted_at: datetime | None = None
    units: dict[str, str | None] = field(default_factory=dict)
    limiter: Limiter = field(init=False)

    def __post_init__(self) -> None:
        self.points_per_request = self.limits.points_per_request
        self.timeout = self.limits.timeout
        self.retries = self.limits.retries
        self.max_outstanding = self.limits.max_outstanding
        self.limiter = Limiter(self.max_outstanding, self.gap)

    def as_dict(self) -> dict:
        """The learned values, for status and metrics."""
        return {
            "rpm": self.rpm,
            "points_per_request": self.points_per_request,
            "timeout_seconds": round(self.timeout, 3),
            "retries": 0 if self.silent else self.retries,
            "silent": self.silent,
            "max_outstanding": self.max_outstanding,
            "gap_seconds": self.gap,
            "restricted_at": self.restricted_at.isoformat() if self.restricted_at else None,
        }

    def _restricted(self) -> None:
        self.restricted_at = self.restricted_at or clock().now()

    def refuse_rpm(self) -> None:
        """The device does not do ReadPropertyMultiple: use ReadProperty until the next re-probe."""
        self.rpm = False
        self._restricted()

    def shrink_batch(self) -> bool:
        """Halve the points per RPM request; False when it is already one (then RPM is refused)."""
        if self.points_per_request <= 1:
            return False
        self.points_per_request = max(1, self.points_per_request // 2)
        self._restricted()
        return True

    def overloaded(self) -> None:
        """The device said busy / out of resources: fewer requests at once, then a gap between them."""
        if self.max_outstanding > 1:
            self.max_outstanding //= 2
        else:
            self.gap = min(1.0, max(0.05, self.gap * 2))
        self.limiter.limit, self.limiter.gap = self.max_outstanding, self.gap
        self._restricted()

    def timed_out(self, used: float) -> bool:
        """A request given `used` seconds got no answer: double the timeout (once per level, up to the limit).

        False when the timeout is already at its limit, or the device used to answer in under half this wait
        (then the request is not worth repeating: the device has gone quiet, it is not slow).
        """
        if self.timeout > used:
            return True  # a concurrent request already raised it
        if self.slowest_answer and self.slowest_answer < used / 2:
            return False  # it used to answer well within this wait: silence now means gone, not slow
        if self.timeout >= self.limits.max_timeout:
            return False
        self.timeout = min(self.limits.max_timeout, self.timeout * 2)
        self._restricted()
        return True

    def went_silent(self) -> None:
        """The device answered nothing: one attempt per request from now on, at the timeout its answers justify."""
        self.silent = True
        self.timeout = self.justified_timeout()

    def justified_timeout(self) -> float:
        """Twice the slowest answer seen, within the base and the limit."""
        return max(self.limits.timeout, min(self.limits.max_timeout, 2 * self.slowest_answer))

    def attempt_timeout(self) -> float:
        """The wait for the next request: a silent device gets the longest wait every SILENT_LONG_EVERY polls.

        So a dead meter costs its usual timeout per poll, and a device that comes back slower than before
        is still heard within a few polls.
        """
        if self.silent and self.silent_polls and self.silent_polls % SILENT_LONG_EVERY == 0:
            return self.limits.max_timeout
        return self.timeout

    def answered(self, seconds: float) -> None:
        """A request was answered after `seconds`: the timeout becomes twice the slowest answer (or the base)."""
        self.silent, self.silent_polls = False, 0
        self.slowest_answer = max(self.slowest_answer, seconds)
        self.timeout = self.justified_timeout()

    def reprobe_due(self) -> bool:
        """True once the restrictions are older than `reprobe_after`; then they are lifted."""
        if self.restricted_at is None or clock().now() - self.restricted_at < self.limits.reprobe_after:
            return False
        units = self.units
        self.__init__(limits=self.limits)  # type: ignore[misc]
        self.units = units
        return True
