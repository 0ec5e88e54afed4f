"""Central outages as the edge sees them: the one going on (alerting past a threshold) and the last one that ended.

The last completed outage is kept in agent_state so that a restart does not lose it before a heartbeat has
told central; every heartbeat reports it and central records it once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from db.clock import utcnow
from db.edge.store import get_state, set_state

if TYPE_CHECKING:
    from db.edge.store import EdgeEngine

logger = logging.getLogger(__name__)

STATE_KEY = "last_central_outage"


@dataclass(frozen=True)
class Outage:
    """A completed outage: central could not be reached from started_at to ended_at."""

    started_at: datetime
    ended_at: datetime

    @property
    def seconds(self) -> float:
        """How long it lasted."""
        return (self.ended_at - self.started_at).total_seconds()


def minutes(seconds: float) -> str:
    """A duration in whole minutes, e.g. '23 min'."""
    return f"{seconds / 60:.0f} min"


class CentralOutage:
    """Follows the uploader's reachability: begin() when central becomes unreachable, end() when it answers."""

    def __init__(self, engine: EdgeEngine, alert_minutes: float) -> None:
        self.engine = engine
        self.alert_minutes = alert_minutes
        self.since: datetime | None = None
        self.last: Outage | None = None
        self._alerted = False
        self._unsaved = False

    @property
    def seconds(self) -> float | None:
        """How long the current outage has lasted, or None when central is reachable."""
        return None if self.since is None else (utcnow() - self.since).total_seconds()

    @property
    def alerting(self) -> bool:
        """Whether the current outage is longer than CENTRAL_UNREACHABLE_ALERT_MINUTES."""
        seconds = self.seconds
        return seconds is not None and seconds > self.alert_minutes * 60

    def begin(self, at: datetime | None = None) -> None:
        """Central just became unreachable: found by an attempt sent at `at` (now when not given)."""
        if self.since is None:
            now = utcnow()
            self.since, self._alerted = min(at, now) if at is not None else now, False

    def end(self) -> None:
        """Central answers again: the outage becomes the last completed one (saved by save())."""
        if self.since is None:
            return
        outage = Outage(self.since, utcnow())
        self.since, self.last, self._unsaved = None, outage, True
        if outage.seconds > self.alert_minutes * 60:
            logger.info(
                "central reachable again after %s (unreachable from %s to %s); queued readings are uploaded",
                minutes(outage.seconds),
                outage.started_at.isoformat(timespec="seconds"),
                outage.ended_at.isoformat(timespec="seconds"),
            )

    def check(self) -> None:
        """Log one ERROR line when the current outage passes the threshold."""
        if self.alerting and not self._alerted:
            self._alerted = True
            logger.error(
                "central unreachable for %s since %s (alert threshold %g min): readings are queued here",
                minutes(self.seconds),
                self.since.isoformat(timespec="seconds"),
                self.alert_minutes,
            )

    async def save(self) -> None:
        """Store the last completed outage in agent_state if it changed."""
        if not self._unsaved:
            return
        started, ended = self.last.started_at.isoformat(), self.last.ended_at.isoformat()
        await set_state(self.engine, STATE_KEY, {"started_at": started, "ended_at": ended})
        self._unsaved = False

    async def load(self) -> None:
        """Read the last completed outage stored by an earlier run."""
        value = await get_state(self.engine, STATE_KEY)
        if value:
            self.last = Outage(
                datetime.fromisoformat(value["started_at"]), datetime.fromisoformat(value["ended_at"])
            )
