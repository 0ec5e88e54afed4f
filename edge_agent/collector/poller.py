"""The collection coordinator: poll every meter each interval, concurrently; one dead meter delays no other."""

import asyncio
import logging
import math
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from bacpypes3.app import Application

from db.clock import clock
from db.edge.outbox import Outbox, OutboxFull, Reading
from db.edge.store import record_meter_health
from edge_agent import metrics
from edge_agent.bacnet.tuning import DeviceTuning
from edge_agent.collector.profile import DeviceProfile, Limits
from edge_agent.collector.reader import PointValue, read_device
from edge_agent.errors import BacnetError
from edge_agent.meters import Meter

logger = logging.getLogger(__name__)

ENERGY_UNITS = ("watt-hours", "kilowatt-hours", "megawatt-hours")


@dataclass
class MeterHealth:
    """What the collector knows about one meter's answers."""

    external_id: str
    reachable: bool | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    last_seen_at: datetime | None = None
    counter_resets: int = 0


@dataclass
class PollResult:
    """Outcome of one poll of every meter."""

    values: int
    meters_ok: int
    meters_failed: int
    stored: bool = True


def now_ms() -> datetime:
    """UTC now truncated to milliseconds (reading timestamps; equal precision on every database)."""
    now = clock().now()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class Collector:
    """Polls configured meters into the outbox."""

    def __init__(
        self,
        app: Application,
        outbox: Outbox,
        timeout: float = 2.0,
        per_device_concurrency: int = 4,
        max_concurrent_devices: int = 32,
        max_timeout: float | None = None,
        retries: int = 1,
        reprobe_after: timedelta = timedelta(hours=1),
    ):
        self.app = app
        self.tuning = DeviceTuning(app) if app is not None else None
        self.limits = Limits(
            timeout=timeout,
            max_timeout=max(timeout, max_timeout or timeout * 4),
            retries=retries,
            max_outstanding=per_device_concurrency,
            reprobe_after=reprobe_after,
        )
        # Bounds the burst of requests one poll sends; each dead meter holds a slot for `timeout` only.
        self.device_slots = asyncio.Semaphore(max_concurrent_devices)
        self.poll_lock = asyncio.Lock()
        self.outbox = outbox
        self.timeout = timeout
        self.per_device_concurrency = per_device_concurrency
        self.meters: dict[str, Meter] = {}
        self.health: dict[str, MeterHealth] = {}
        self.profiles: dict[str, DeviceProfile] = {}
        self.last_values: dict[tuple[str, str], float] = {}
        self.outcomes: deque[bool] = deque(maxlen=1000)
        self.health_changed: set[str] = set()
        self.polled_at: dict[str, float] = {}
        self.in_flight: dict[str, asyncio.Task] = {}
        self._late: list[tuple[str, list[Reading]]] = []
        self._late_store: asyncio.Task | None = None
        self._late_stores: set[asyncio.Task] = set()

    def set_meters(self, meters: list[Meter]) -> None:
        """Replace the meter list (applied at the next poll, no restart)."""
        self.meters = {m.id: m for m in meters if m.enabled}
        for meter_id in list(self.health):
            if meter_id not in self.meters:
                del self.health[meter_id]
                self.profiles.pop(meter_id, None)
        for meter_id in self.meters:
            self.health.setdefault(meter_id, MeterHealth(meter_id))
            self.profiles.setdefault(meter_id, DeviceProfile(self.limits))
        metrics.METERS_TOTAL.set(len(self.meters))

    @property
    def success_rate(self) -> float | None:
        """Share of recent meter polls that answered, or None before the first poll."""
        return sum(self.outcomes) / len(self.outcomes) if self.outcomes else None

    def unit_of(self, meter_id: str, point: str) -> str | None:
        """The unit the device reported for a point (learnt by polling), if known."""
        profile = self.profiles.get(meter_id)
        return profile.units.get(point) if profile else None

    def reachable_count(self) -> int:
        """Meters whose last poll answered."""
        return sum(1 for h in self.health.values() if h.reachable)

    async def read_meter(self, meter: Meter) -> tuple[list[PointValue], dict[str, str], datetime]:
        """Read one meter now (values, per-point errors, timestamp); BacnetError when it does not answer."""
        profile = self.profiles.setdefault(meter.id, DeviceProfile(self.limits))
        values, errors = await read_device(self.app, self.tuning, meter, profile)
        return values, errors, now_ms()

    async def _poll_meter(self, meter: Meter) -> list[Reading]:
        health = self.health.setdefault(meter.id, MeterHealth(meter.id))
        was = (health.reachable, health.last_error)
        try:
            async with self.device_slots:
                values, errors, ts = await self.read_meter(meter)
        except BacnetError as err:
            if health.reachable is not False:
                logger.warning("meter %s (%s) not answering: %s", meter.id, meter.address, err)
            health.reachable, health.last_error, health.last_error_at = False, str(err), now_ms()
            self.outcomes.append(False)
            metrics.METER_POLLS.labels("failed").inc()
            self._note_change(meter.id, was, health)
            return []
        if health.reachable is False:
            logger.info("meter %s answers again", meter.id)
        health.reachable, health.last_seen_at = True, ts
        health.last_error = "; ".join(f"{k}: {v}" for k, v in errors.items())[:500] or None
        if errors:
            health.last_error_at = ts
        self.outcomes.append(True)
        metrics.METER_POLLS.labels("ok").inc()
        self._note_change(meter.id, was, health)
        return [self._reading(meter, health, value, ts) for value in values]

    def _note_change(self, meter_id: str, was: tuple, health: MeterHealth) -> None:
        if was != (health.reachable, health.last_error):
            self.health_changed.add(meter_id)

    def _reading(self, meter: Meter, health: MeterHealth, value: PointValue, ts: datetime) -> Reading:
        key = (meter.id, value.point.name)
        cumulative = value.point.cumulative or (value.unit or "") in ENERGY_UNITS
        previous = self.last_values.get(key)
        if cumulative and previous is not None and value.value < previous:
            health.counter_resets += 1
            logger.warning(
                "meter %s point %s went backwards (%.3f -> %.3f): counter reset",
                meter.id,
                value.point.name,
                previous,
                value.value,
            )
        self.last_values[key] = value.value
        return Reading(meter.id, value.point.name, ts, value.value, value.unit, int(value.quality))

    async def poll_once(self) -> PollResult:
        """Poll every enabled meter concurrently and commit what answered to the outbox."""
        async with self.poll_lock:
            return await self._poll_all()

    def due(self, interval: float) -> list[Meter]:
        """Meters whose own interval (or the site's, `interval`) has passed since their last poll."""
        now = time.monotonic()
        return [
            m
            for m in self.meters.values()
            # 5% early still counts: a tick that lands a little before the boundary must not skip a round
            if now - self.polled_at.get(m.id, -math.inf) >= 0.95 * (m.interval_seconds or interval)
        ]

    def tick(self, interval: float) -> float:
        """How often the loop wakes: the shortest interval of any meter, or the site's."""
        return min([interval, *(m.interval_seconds for m in self.meters.values() if m.interval_seconds)])

    async def _poll_all(self, meters: list[Meter] | None = None, wait: float | None = None) -> PollResult:
        """Poll meters at once; with `wait`, a meter still waiting for its answer then is finished later.

        The round commits what answered within `wait` so that one slow or dying device never delays the
        others' rhythm; the straggler's readings are committed when it answers, and it is not asked again
        until then.
        """
        meters = list(self.meters.values()) if meters is None else meters
        meters = [m for m in meters if m.id not in self.in_flight]
        started = time.monotonic()
        self.polled_at.update((m.id, started) for m in meters)
        tasks = {m.id: asyncio.create_task(self._poll_meter(m)) for m in meters}
        done, pending = await asyncio.wait(tasks.values(), timeout=wait) if tasks else (set(), set())
        for meter_id, task in tasks.items():
            if task in pending:
                self.in_flight[meter_id] = task
                task.add_done_callback(lambda t, mid=meter_id: self._finish_late(mid, t))
        readings = [r for task in done for r in task.result()]
        answered = [m for m in meters if tasks[m.id] in done]
        failed = sum(1 for m in answered if self.health[m.id].reachable is False)
        result = PollResult(len(readings), len(answered) - failed, failed)
        result.stored = await self._store(readings)
        return result

    def _finish_late(self, meter_id: str, task: asyncio.Task) -> None:
        if task.cancelled():
            self.in_flight.pop(meter_id, None)
            return
        self._late.append((meter_id, task.result()))
        if self._late_store is None:
            self._late_store = store = asyncio.create_task(self._store_late())
            self._late_stores.add(store)
            store.add_done_callback(self._late_stores.discard)

    async def _store_late(self) -> None:
        """Commit late answers one store at a time, each with every answer that arrived meanwhile.

        A store per straggler queued hundreds of writers on SQLite's one write lock at 1,000 meters on a
        loaded machine (pool timeouts, "database is locked"); a straggler is asked again once stored.
        """
        while self._late:
            batch, self._late = self._late, []
            try:
                await self._store([reading for _, readings in batch for reading in readings])
            except Exception:  # the loop must go on for the answers behind these (as a poll's own store does)
                logger.exception("storing %d late answers failed", len(batch))
            finally:
                for meter_id, _ in batch:
                    self.in_flight.pop(meter_id, None)
        self._late_store = None  # in the step that found nothing left: an answer arriving next starts anew

    async def _store(self, readings: list[Reading]) -> bool:
        """Commit readings to the outbox and refresh health and gauges; False when the outbox refused them."""
        stored = True
        try:
            await self.outbox.add(readings)
        except OutboxFull:
            stored = False
        else:
            metrics.VALUES_COLLECTED.inc(len(readings))
        await self._persist_health()
        metrics.METERS_REACHABLE.set(self.reachable_count())
        metrics.OUTBOX_FULL.set(1 if self.outbox.full else 0)
        if self.success_rate is not None:
            metrics.COLLECTION_SUCCESS_RATE.set(self.success_rate)
        return stored

    async def settle(self, cancel: bool = False) -> None:
        """Wait (bounded) for answers already on their way to be committed; cancel=True drops what is left."""
        pending = [*self.in_flight.values(), *self._late_stores]
        if pending:
            _done, late = await asyncio.wait(pending, timeout=self.limits.max_timeout * 3 + 1)
            for task in late if cancel else ():
                task.cancel()

    async def _persist_health(self) -> None:
        """Write changed reachability to the edge database's meters cache (read by status tools and tests)."""
        if not self.health_changed:
            return
        changed, self.health_changed = self.health_changed, set()
        rows = [
            {
                "external_id": h.external_id,
                "reachable": h.reachable,
                "last_error": h.last_error,
                "last_error_at": h.last_error_at,
                # Written with every reachability change: when a meter stops answering this is its last
                # reading, which a restarted agent shows until the meter answers again.
                "last_reading_at": h.last_seen_at,
            }
            for h in (self.health.get(meter_id) for meter_id in changed)
            if h is not None
        ]
        try:
            await record_meter_health(self.outbox.engine, rows)
        except Exception:  # a database hiccup only delays the record; collection goes on
            logger.warning("could not record meter health; will retry after the next poll", exc_info=True)
            self.health_changed |= changed

    async def run(self, interval: float, running: asyncio.Event) -> None:
        """Poll on interval boundaries while `running` is set; a failing poll never stops the loop."""
        while True:
            await running.wait()
            started, tick = time.monotonic(), self.tick(interval)
            try:
                async with self.poll_lock:
                    await self._poll_all(self.due(interval), wait=0.9 * tick)
            except Exception:  # the loop must survive anything one poll does (e.g. database hiccup)
                logger.exception("collection poll failed")
            delay = tick - (time.monotonic() - started) % tick
            await asyncio.sleep(delay)
