"""What the local API reads from the agent: decorated status, latest values, and the feed behind subscriptions.

One Feed per app polls the agent once per tick while at least one subscriber listens, and fans each new
batch of values and each status change out to every subscriber's queue: N browser tabs cost one poll.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

from db.clock import utcnow
from edge_agent.local_api.types import AgentStatus, CentralOutage, EdgeAlert, LiveValue, Meter, _get

logger = logging.getLogger(__name__)

REACHABLE_STATES = ("ok", "rate_limited", "unauthorized")
STATUS_REFRESH_SECONDS = 5.0
QUEUE_LIMIT = 100


def central_reachable(state: str) -> bool | None:
    """Reachable when central answered (even with a refusal); None before the first attempt."""
    if state in REACHABLE_STATES:
        return True
    return False if state == "unreachable" else None


def _status_key(status: AgentStatus) -> tuple:
    """The parts of a status whose change is worth a push (ages tick every second; they ride the refresh)."""
    return (
        status.collecting, status.queue_depth, status.dead_letter_count, status.central_state,
        status.central_reachable, status.last_sync_at, status.meters_reachable, status.meters_total,
        status.outbox_full, status.last_poll_at, status.last_sync_outcome,
        status.central_outage is not None and status.central_outage.alerting,
        tuple((a.kind, a.meter, a.started_at) for a in status.alerts),
        status.site_timezone, status.simulated_until,
    )  # fmt: skip


def _outage(raw: Any) -> CentralOutage | None:
    since = raw.central_outage_since
    if since is None:
        return None
    seconds = (utcnow() - since).total_seconds()
    return CentralOutage(
        since=since.replace(microsecond=0), seconds=seconds, alerting=raw.central_outage_alerting
    )


class AgentView:
    """Reads the agent for the API: status with 'since when' and last sync result, meters with latest values."""

    def __init__(self, agent: Any) -> None:
        self.agent = agent
        self._reachable: bool | None = None
        self._since: datetime | None = None

    def _track_central(self, reachable: bool | None, unreachable_seconds: float | None) -> datetime | None:
        now = utcnow()
        if reachable is False and unreachable_seconds is not None:
            since = now - timedelta(seconds=unreachable_seconds)
            self._reachable, self._since = reachable, since.replace(microsecond=0)
        elif reachable != self._reachable or self._since is None:
            self._reachable, self._since = reachable, now.replace(microsecond=0)
        return self._since if reachable is not None else None

    async def status(self) -> AgentStatus:
        """The agent's status plus last poll, last sync result and since when central is (un)reachable."""
        raw = await self.agent.status()
        log = await self.agent.sync_log(1)
        last = log[0] if log else None
        last_poll = _get(raw, "last_poll_at")
        if last_poll is None:
            meters = await self.agent.meters()
            seen = [t for m in meters for t in (m.last_seen_at, m.last_error_at) if t is not None]
            last_poll = max(seen) if seen else None
        state = raw.central_state
        reachable = central_reachable(state)
        if reachable is None and raw.last_heartbeat_at is not None:
            reachable = True  # no upload tried yet, but central took a heartbeat
        return AgentStatus(
            agent_version=raw.agent_version,
            collecting=raw.collecting,
            collection_interval_seconds=raw.collection_interval_seconds,
            last_poll_at=last_poll,
            meters_total=raw.meters_total,
            meters_reachable=raw.meters_reachable,
            collection_success_rate=raw.collection_success_rate,
            queue_depth=raw.queue_depth,
            queue_head_attempts=_get(raw, "queue_head_attempts", 0),
            oldest_queued_age_seconds=raw.oldest_queued_age_seconds,
            outbox_full=raw.outbox_full,
            outbox_full_policy=raw.outbox_full_policy,
            dead_letter_count=raw.dead_letter_count,
            central_state=state,
            central_detail=raw.central_detail,
            central_reachable=reachable,
            central_since=self._track_central(reachable, raw.central_unreachable_seconds),
            central_unreachable_seconds=raw.central_unreachable_seconds,
            central_outage=_outage(raw),
            alerts=[a for a in await self.alerts() if a.ended_at is None],
            sync_success_rate=raw.sync_success_rate,
            last_sync_at=raw.last_sync_at or (last.started_at if last else None),
            last_sync_outcome=last.outcome if last else None,
            last_sync_success=last.success if last else None,
            last_sync_message=last.error_message if last else None,
            last_heartbeat_at=raw.last_heartbeat_at,
            site_name=raw.site_name,
            bbmd_address=raw.bbmd_address,
            bbmd_state=raw.bbmd_state,
            bbmd_registered_at=raw.bbmd_registered_at,
            checked_at=utcnow().replace(microsecond=0),
            site_timezone=_get(raw, "site_timezone"),
            simulated_from=_get(raw, "simulated_from"),
            simulated_until=_get(raw, "simulated_until"),
        )

    async def alerts(self) -> list[EdgeAlert]:
        """The edge's own alerts: open ones, then ended ones (an agent without them has none)."""
        read = getattr(self.agent, "edge_alerts", None)
        return [EdgeAlert.from_model(a) for a in await read()] if read else []

    def _latest_window(self, interval: float) -> datetime:
        return utcnow() - timedelta(seconds=max(3 * interval, 60.0))

    async def latest(self, meter: str, since: datetime, interval: float | None = None) -> list[LiveValue]:
        """The newest value of each of a meter's points since a time (stale past 3 × interval)."""
        rows = await self.agent.recent_readings(meter, None, since)
        newest: dict[str, Any] = {}
        for row in rows:
            newest[row.data_point] = row  # rows come oldest first
        return [LiveValue.from_model(row, interval) for _point, row in sorted(newest.items())]

    async def meters(self, external_id: str | None = None) -> list[Meter]:
        """Every meter (or one) with its health and latest values."""
        raw = await self.agent.status()
        since = self._latest_window(raw.collection_interval_seconds)
        out = []
        for meter in await self.agent.meters():
            if external_id and meter.external_id != external_id:
                continue
            latest = await self.latest(meter.external_id, since, raw.collection_interval_seconds)
            out.append(Meter.from_model(meter, latest))
        return out


class Feed:
    """Polls the agent while anyone subscribes; each subscriber gets its own queue of events."""

    def __init__(self, view: AgentView, tick_seconds: float = 1.0) -> None:
        self.view = view
        self.tick_seconds = tick_seconds
        self._queues: set[asyncio.Queue] = set()
        self._task: asyncio.Task | None = None
        self._cursor: dict[str, datetime] = {}

    async def _poll_values(self) -> list[LiveValue]:
        fresh: list[LiveValue] = []
        for meter in await self.view.agent.meters():
            since = self._cursor.get(meter.external_id)
            if since is None:
                since = utcnow() - timedelta(minutes=5)
                self._cursor[meter.external_id] = since
            rows = await self.view.agent.recent_readings(meter.external_id, None, since)
            rows = [r for r in rows if r.ts > since]
            if rows:
                self._cursor[meter.external_id] = max(r.ts for r in rows)
                fresh.extend(LiveValue.from_model(r) for r in rows)
        return fresh

    async def _run(self) -> None:
        last_key: tuple | None = None
        last_push = 0.0
        loop = asyncio.get_running_loop()
        while self._queues:
            try:
                status = await self.view.status()
                key = _status_key(status)
                if key != last_key or loop.time() - last_push >= STATUS_REFRESH_SECONDS:
                    last_key, last_push = key, loop.time()
                    self._publish(("status", status))
                values = await self._poll_values()
                if values:
                    self._publish(("values", values))
            except Exception:  # noqa: BLE001  (a failing read must not end every subscription)
                logger.exception("local API feed could not read the agent")
            await asyncio.sleep(self.tick_seconds)
        self._cursor.clear()

    def _publish(self, event: tuple[str, Any]) -> None:
        for queue in self._queues:
            if queue.qsize() < QUEUE_LIMIT:
                queue.put_nowait(event)

    async def events(self, kind: str) -> AsyncIterator[Any]:
        """Yield every event of one kind ('status' or 'values') until the subscriber goes away."""
        queue: asyncio.Queue = asyncio.Queue()
        self._queues.add(queue)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="local-api-feed")
        try:
            while True:
                event_kind, payload = await queue.get()
                if event_kind == kind:
                    yield payload
        finally:
            self._queues.discard(queue)

    async def close(self) -> None:
        """Stop polling (at shutdown)."""
        self._queues.clear()
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
