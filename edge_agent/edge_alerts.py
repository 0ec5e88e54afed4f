"""The edge's own alerts, decided on site so they are raised and resolved while central is out of reach.

Three kinds, named as central's rules: `central_unreachable` (CENTRAL_UNREACHABLE_ALERT_MINUTES, 15),
`meter_unreachable` (METER_UNREACHABLE_ALERT_MINUTES, 5, one per meter) and `edge_queue`
(QUEUE_ALERT_DEPTH, 10,000 readings). An alert starts when its condition started (the outage's start, the
meter's last answer, the first deep queue seen), not when the threshold was passed, and ends when it clears.

Ended alerts are kept in agent_state (a restart does not lose them) and, as the last central outage already
is (edge_agent/outage.py), repeated in every heartbeat for a day; central records each once, with its real
start and end (api/alerts/engine.py). The central outage itself still travels in the outage fields.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from db.clock import utcnow
from db.edge.store import get_state, set_state
from edge_agent.outage import CentralOutage, minutes
from edge_agent.site_zone import clock_text

if TYPE_CHECKING:
    from db.edge.store import EdgeEngine

logger = logging.getLogger(__name__)

CENTRAL_UNREACHABLE, METER_UNREACHABLE, EDGE_QUEUE = "central_unreachable", "meter_unreachable", "edge_queue"
STATE_KEY = "edge_alerts"
# Open alerts are stored too: an agent killed while one is open resolves it after its restart, when the
# condition has cleared, instead of forgetting it (the soak's SIGKILL during a full queue found this).
OPEN_KEY = "edge_alerts_open"
KEEP_ENDED = 50
REPORT_FOR = timedelta(days=1)


@dataclass(frozen=True)
class EdgeAlert:
    """One alert of the edge: open while ended_at is None."""

    kind: str
    meter: str | None
    started_at: datetime
    ended_at: datetime | None
    message: str

    @property
    def key(self) -> tuple[str, str | None]:
        """What identifies an open alert: its kind and meter."""
        return (self.kind, self.meter)

    def to_json(self) -> dict:
        """The stored form (ISO times)."""
        value = asdict(self)
        value["started_at"] = self.started_at.isoformat()
        value["ended_at"] = self.ended_at.isoformat() if self.ended_at else None
        return value

    @classmethod
    def from_json(cls, value: dict) -> EdgeAlert:
        """From the stored form."""
        ended = value.get("ended_at")
        return cls(
            kind=value["kind"],
            meter=value.get("meter"),
            started_at=datetime.fromisoformat(value["started_at"]),
            ended_at=datetime.fromisoformat(ended) if ended else None,
            message=value.get("message") or "",
        )


@dataclass(frozen=True)
class Thresholds:
    """When each kind opens."""

    central_minutes: float = 15.0
    meter_minutes: float = 5.0
    queue_depth: int = 10_000


class EdgeAlerts:
    """Opens and ends the edge's alerts from what the agent sees; see the module docstring."""

    def __init__(self, engine: EdgeEngine, thresholds: Thresholds) -> None:
        self.engine = engine
        self.thresholds = thresholds
        self.open: dict[tuple[str, str | None], EdgeAlert] = {}
        self.ended: list[EdgeAlert] = []  # newest first
        self._meter_down_since: dict[str, datetime] = {}
        self._queue_deep_since: datetime | None = None
        self._unsaved = False
        self.zone: str | None = None  # the site's time zone (siteConfig), for the messages' times

    def evaluate(self, outage: CentralOutage, meters: Iterable, queue_depth: int) -> None:
        """Open the alerts whose condition passed its threshold and end those whose condition cleared."""
        now = utcnow()
        holding: dict[tuple[str, str | None], tuple[datetime, str]] = {}
        if outage.since is not None and outage.seconds > self.thresholds.central_minutes * 60:
            text = (
                f"central unreachable since {clock_text(outage.since, self.zone)}: readings are queued here"
            )
            holding[CENTRAL_UNREACHABLE, None] = (outage.since, text)
        down = set()
        for health in meters:
            if health.reachable is not False:
                continue
            down.add(health.external_id)
            since = self._meter_down_since.setdefault(health.external_id, health.last_seen_at or now)
            if (now - since).total_seconds() > self.thresholds.meter_minutes * 60:
                why = f": {health.last_error}" if health.last_error else ""
                holding[METER_UNREACHABLE, health.external_id] = (
                    since,
                    f"meter {health.external_id} unreachable since {clock_text(since, self.zone)}{why}",
                )
        self._meter_down_since = {m: t for m, t in self._meter_down_since.items() if m in down}
        if queue_depth > self.thresholds.queue_depth:
            self._queue_deep_since = self._queue_deep_since or now
            text = (
                f"outbox holds {queue_depth} readings, above {self.thresholds.queue_depth} "
                f"since {clock_text(self._queue_deep_since, self.zone)}"
            )
            holding[EDGE_QUEUE, None] = (self._queue_deep_since, text)
        else:
            self._queue_deep_since = None
        for key, (since, text) in holding.items():
            if key not in self.open:
                self.open[key] = EdgeAlert(key[0], key[1], since, None, text)
                self._unsaved = True
                logger.error("edge alert %s raised: %s", key[0], text)
            elif self.open[key].message != text:
                self.open[key] = replace(self.open[key], message=text)
        for key in [k for k in self.open if k not in holding]:
            alert = self.open.pop(key)
            self._end(alert, self._end_time(alert, outage, now))

    def _end_time(self, alert: EdgeAlert, outage: CentralOutage, now: datetime) -> datetime:
        last = outage.last
        if alert.kind == CENTRAL_UNREACHABLE and last is not None and last.ended_at >= alert.started_at:
            return last.ended_at  # when central answered, not when this check ran
        return now

    def _end(self, alert: EdgeAlert, ended_at: datetime) -> None:
        ended = replace(alert, ended_at=ended_at)
        self.ended = [ended, *self.ended][:KEEP_ENDED]
        self._unsaved = True
        logger.info(
            "edge alert %s resolved after %s (%s to %s)",
            alert.kind,
            minutes((ended_at - alert.started_at).total_seconds()),
            alert.started_at.isoformat(timespec="seconds"),
            ended_at.isoformat(timespec="seconds"),
        )

    def current(self) -> list[EdgeAlert]:
        """Open alerts, oldest first, then ended ones, newest first."""
        return sorted(self.open.values(), key=lambda a: a.started_at) + self.ended

    def to_report(self) -> list[EdgeAlert]:
        """Ended alerts central records (repeated for a day; central keeps each once). Not the central outage."""
        cutoff = utcnow() - REPORT_FOR
        return [a for a in self.ended if a.kind != CENTRAL_UNREACHABLE and a.ended_at > cutoff]

    async def save(self) -> None:
        """Store the open and the ended alerts in agent_state if they changed."""
        if self._unsaved:
            await set_state(self.engine, STATE_KEY, [a.to_json() for a in self.ended])
            await set_state(self.engine, OPEN_KEY, [a.to_json() for a in self.open.values()])
            self._unsaved = False

    async def load(self) -> None:
        """Read the alerts an earlier run stored (an open one ends at the first check that finds it cleared)."""
        self.ended = [EdgeAlert.from_json(v) for v in (await get_state(self.engine, STATE_KEY) or [])]
        opened = [EdgeAlert.from_json(v) for v in (await get_state(self.engine, OPEN_KEY) or [])]
        self.open = {a.key: a for a in opened}
        for alert in opened:  # the condition's start survives the restart with the alert
            if alert.kind == EDGE_QUEUE:
                self._queue_deep_since = alert.started_at
            elif alert.kind == METER_UNREACHABLE and alert.meter:
                self._meter_down_since[alert.meter] = alert.started_at
