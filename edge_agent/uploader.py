"""Upload the outbox to central in batches: backoff with jitter, never drop, dead-letter only what central rejects.

States: "idle" (never tried), "ok", "unreachable" (keep queueing; logged once per change), "rate_limited"
(wait Retry-After), "unauthorized" (stop uploading until trigger_sync or a restart). Batch ids are a hash
of the readings' identities, so a retry of the same rows, even after a crash, is answered from central's
batch table instead of being counted twice.
"""

import asyncio
import hashlib
import logging
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from db.clock import utcnow
from db.edge.outbox import Outbox, QueuedReading, Reading
from db.edge.store import add_sync_log
from db.wire import DEFAULT_BATCH_SIZE
from edge_agent import metrics
from edge_agent.central import CentralClient
from edge_agent.errors import BatchRefused, CentralUnreachable, RateLimited, Unauthorized
from edge_agent.outage import CentralOutage

logger = logging.getLogger(__name__)

MAX_INLINE_RATE_LIMIT_WAIT = 30.0


def batch_id_for(rows: list[QueuedReading]) -> str:
    """Stable id of a batch: the same readings always give the same id."""
    return prepare(rows).batch_id


@dataclass
class Batch:
    """Queued readings ready to send: their upload format and batch id, computed once for every attempt."""

    rows: list[QueuedReading]
    wire: list[dict]
    batch_id: str


def prepare(rows: list[QueuedReading]) -> Batch:
    """The upload format and id of rows in one pass (each distinct timestamp formatted once)."""
    formatted: dict[datetime, str] = {}
    wire, identities = [], []
    for row in rows:
        r = row.reading
        ts = formatted.get(r.ts)
        if ts is None:
            ts = formatted[r.ts] = r.ts.isoformat()
        identities.append(f"{r.meter_external_id}\x1f{r.data_point}\x1f{ts}\x1e")
        wire.append(reading_to_wire(r, ts))
    digest = hashlib.sha256("".join(identities).encode())  # the same bytes as one update per reading
    return Batch(rows, wire, f"b-{len(rows)}-{digest.hexdigest()[:40]}")


@dataclass
class Ack:
    """Central's answer to one upload, to apply to the outbox: rows to delete, rows to dead-letter, counts."""

    batch: Batch
    answer: dict | None  # None: a reading central refused alone
    dead: list[tuple[QueuedReading, str]]
    started: datetime


def to_wire(row: QueuedReading) -> dict:
    """The upload format of one queued reading."""
    return reading_to_wire(row.reading)


def reading_to_wire(r: Reading, timestamp: str | None = None) -> dict:
    """The upload format of one reading (db/wire.py ReadingIn); `timestamp`: r.ts already formatted."""
    return {
        "meter_external_id": r.meter_external_id,
        "data_point": r.data_point,
        "timestamp": timestamp or r.ts.isoformat(),
        "value": r.value,
        "unit": r.unit,
        "quality": r.quality,
    }


def backoff_delay(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff with full jitter: uniform(0, min(cap, base * 2**attempt))."""
    return random.uniform(0, min(cap, base * 2**attempt))


@dataclass
class SyncResult:
    """Totals of one sync cycle."""

    batches: int = 0
    acknowledged: int = 0
    new: int = 0
    duplicates: int = 0
    rejected: int = 0
    outcome: str = "ok"
    errors: list[str] = field(default_factory=list)
    started_at: datetime = field(default_factory=utcnow)
    # when the first attempt that central did not answer was sent (the outage began before it failed)
    unreachable_from: datetime | None = None


class Uploader:
    """Moves readings from the outbox to central."""

    def __init__(
        self,
        outbox: Outbox,
        central_factory: Callable[[], CentralClient],
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_retries: int = 5,
        pipeline: int = 3,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
        outage_alert_minutes: float = 15.0,
    ) -> None:
        self.outbox = outbox
        self.central_factory = central_factory
        self.batch_size = batch_size
        self.max_retries = max_retries
        self.pipeline = pipeline
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.state = "idle"
        self.state_detail: str | None = None
        self.unreachable_since: float | None = None
        self.outage = CentralOutage(outbox.engine, outage_alert_minutes)
        self.not_before = 0.0
        self.last_success_at = None
        self.outcomes: deque[bool] = deque(maxlen=200)
        self._lock = asyncio.Lock()
        self._unreachable_from: datetime | None = None

    @property
    def success_rate(self) -> float | None:
        """Share of recent batch attempts that worked."""
        return sum(self.outcomes) / len(self.outcomes) if self.outcomes else None

    @property
    def unreachable_seconds(self) -> float | None:
        """How long central has been unreachable, or None when it is not."""
        return None if self.unreachable_since is None else time.monotonic() - self.unreachable_since

    def set_state(self, state: str, detail: str | None = None, since: datetime | None = None) -> None:
        """Change state, logging only when it changes (so an outage is one line, not one per retry).

        `since`: when the attempt that found central unreachable was sent; a request that hangs until its
        timeout would otherwise start the outage one timeout (about a heartbeat) late.
        """
        if state == self.state:
            self.state_detail = detail or self.state_detail
            return
        previous, self.state, self.state_detail = self.state, state, detail
        if state == "unreachable":
            late = max(0.0, (utcnow() - since).total_seconds()) if since is not None else 0.0
            self.unreachable_since = time.monotonic() - late
            self.outage.begin(since)
            logger.warning("central unreachable (%s): readings stay queued", detail)
        elif state == "unauthorized":
            logger.error(
                "central refused the site key (401): uploads stopped; fix CLIENT_API_KEY, then trigger a sync"
            )
        elif state == "rate_limited":
            logger.warning("central rate limited this site: %s", detail)
        elif state == "ok" and previous in ("unreachable", "rate_limited", "unauthorized"):
            logger.info("central reachable again")
        if state != "unreachable":
            self.unreachable_since = None
            self.outage.end()
        metrics.CENTRAL_REACHABLE.set(1 if state == "ok" else 0)

    async def sync_once(self, forced: bool = False) -> SyncResult:
        """Upload until the outbox is empty or central stops accepting; returns the cycle's totals."""
        async with self._lock:
            if self.state == "unauthorized" and not forced:
                return SyncResult(outcome="unauthorized")
            if time.monotonic() < self.not_before and not forced:
                return SyncResult(outcome="rate_limited")
            total = SyncResult()
            self._unreachable_from = None
            try:
                async with self.central_factory() as central:
                    await self._drain(central, total)
            except (CentralUnreachable, Unauthorized, RateLimited) as err:
                total.unreachable_from = self._unreachable_from
                self._record_failure(err, total)
                await self.log_failure(total)
            if total.outcome == "ok" and total.batches:
                self.set_state("ok")
            await self.outage.save()
            return total

    async def _drain(self, central: CentralClient, total: SyncResult) -> None:
        """Upload until the outbox is empty or a batch fails for good; raises that batch's error."""
        failure = await self._pump(central, total)
        if failure is not None:
            raise failure
        self.set_state("ok")

    async def _read(self, after_id: int) -> Batch | None:
        rows = await self.outbox.peek(self.batch_size, after_id=after_id)
        return prepare(rows) if rows else None

    async def _pump(self, central: CentralClient, total: SyncResult) -> BaseException | None:
        """Up to `pipeline` uploads in flight while the next batch is read; acks applied in queue order.

        After a failure no new batch starts; the ones in flight finish and what central acknowledged is
        still deleted (in order), so a failure in the middle of the window neither loses nor re-sends them.
        Acks are applied by a chain of tasks, each after the one before: the next uploads start while an
        ack's transaction commits (its fsync took ~40 ms per batch on a loaded machine).
        """
        window: deque[asyncio.Task] = deque()
        applying: deque[asyncio.Task] = deque()
        failure: BaseException | None = None
        reader: asyncio.Task | None = asyncio.create_task(self._read(0))
        try:
            while True:
                while reader is not None and failure is None and len(window) < self.pipeline:
                    batch = await reader
                    reader = None
                    if batch is None:
                        break
                    window.append(asyncio.create_task(self._send(central, batch)))
                    reader = asyncio.create_task(self._read(batch.rows[-1].id))
                if not window:
                    while applying:
                        await applying.popleft()
                    return failure
                head = window.popleft()
                try:
                    acks = await head
                except Exception as err:  # noqa: BLE001  (raised to the caller once the window is settled)
                    if failure is None or isinstance(err, Unauthorized):
                        failure = err
                    continue
                after = applying[-1] if applying else None
                applying.append(asyncio.create_task(self._apply_after(after, acks, total)))
                while len(applying) > self.pipeline:  # acks pending at most as many as uploads in flight
                    await applying.popleft()
        finally:
            for task in (*window, reader, *applying):
                if task is not None:
                    task.cancel()

    async def _apply_after(self, before: asyncio.Task | None, acks: list[Ack], total: SyncResult) -> None:
        """Apply acks once the acks before them are applied (their error stops these too)."""
        if before is not None:
            await asyncio.shield(before)  # its own awaiter ends it; cancelling this one must not
        for ack in acks:
            await self._apply(ack, total)

    async def _send(self, central: CentralClient, batch: Batch) -> list[Ack]:
        """Upload one batch with retries; raises the last error when the retries of this cycle are spent."""
        attempt = 0
        while True:
            sent = utcnow()
            try:
                acks = await self._upload(central, batch)
                self.outcomes.append(True)
                metrics.UPLOAD_ATTEMPTS.labels("ok").inc()
                self._learn_limit(batch, acks)
                return acks
            except BatchRefused as err:
                acks = await self._refused(central, batch, str(err))
                self._learn_limit(batch, acks)
                return acks
            except Unauthorized:
                self.outcomes.append(False)
                metrics.UPLOAD_ATTEMPTS.labels("unauthorized").inc()
                await self._count_attempt(batch.rows)
                raise
            except RateLimited as err:
                metrics.UPLOAD_ATTEMPTS.labels("rate_limited").inc()
                await self._count_attempt(batch.rows)
                self.set_state("rate_limited", f"retry after {err.retry_after:g} s")
                if err.retry_after > MAX_INLINE_RATE_LIMIT_WAIT or attempt >= self.max_retries:
                    raise
                await asyncio.sleep(err.retry_after)
            except CentralUnreachable as err:
                if self._unreachable_from is None or sent < self._unreachable_from:
                    self._unreachable_from = sent
                self.outcomes.append(False)
                metrics.UPLOAD_ATTEMPTS.labels("unreachable").inc()
                await self._count_attempt(batch.rows)
                if attempt >= self.max_retries:
                    raise
                delay = backoff_delay(attempt, self.backoff_base, self.backoff_cap)
                logger.debug(
                    "upload failed (%s); retry %d/%d in %.2f s", err, attempt + 1, self.max_retries, delay
                )
                await asyncio.sleep(delay)
            attempt += 1

    async def _count_attempt(self, rows: list[QueuedReading]) -> None:
        """Add one to the retry_count of a batch central did not acknowledge (outbox.retry_count)."""
        try:
            await self.outbox.mark_retry([r.id for r in rows])
        except Exception:  # the count is informative: a busy database must not change the upload's outcome
            logger.warning("could not count an upload attempt", exc_info=True)

    async def _upload(self, central: CentralClient, batch: Batch) -> list[Ack]:
        started = utcnow()
        answer = await central.upload(batch.batch_id, batch.wire)
        if answer.get("__typename") == "UploadRejected":
            return await self._refused(central, batch, answer.get("reason") or "refused")
        rows = batch.rows
        reasons = {item["index"]: item["reason"] for item in answer.get("rejections") or []}
        dead = [(rows[i], reason) for i, reason in reasons.items() if 0 <= i < len(rows)]
        return [Ack(batch, answer, dead, started)]

    async def _apply(self, ack: Ack, total: SyncResult) -> None:
        """Delete what central acknowledged, dead-letter what it rejected, log the batch (one transaction)."""
        batch, answer, dead = ack.batch, ack.answer, ack.dead
        if answer is None:  # a reading refused alone
            await self.outbox.ack([], dead)
            total.rejected += len(dead)
            return
        dead_ids = {row.id for row, _ in dead}
        entry = {
            "started_at": ack.started,
            "finished_at": max(utcnow(), ack.started),  # a clock stepped back never ends before it began
            "batch_id": batch.batch_id,
            "batch_size": len(batch.rows),
            "new": answer["new"],
            "duplicates": answer["duplicates"],
            "rejected": answer["rejected"],
            "success": True,
            "outcome": "replayed" if answer.get("replayed") else "ok",
        }
        await self.outbox.ack([r.id for r in batch.rows if r.id not in dead_ids], dead, sync_log=entry)
        total.batches += 1
        total.acknowledged += len(batch.rows)
        total.new += answer["new"]
        total.duplicates += answer["duplicates"]
        total.rejected += answer["rejected"]
        metrics.READINGS_UPLOADED.labels("new").inc(answer["new"])
        metrics.READINGS_UPLOADED.labels("duplicate").inc(answer["duplicates"])
        metrics.READINGS_UPLOADED.labels("rejected").inc(answer["rejected"])
        logger.info(
            "batch %s uploaded: %d readings, %d new, %d duplicates, %d rejected",
            batch.batch_id,
            len(batch.rows),
            answer["new"],
            answer["duplicates"],
            answer["rejected"],
            extra={"batch_id": batch.batch_id, "readings": len(batch.rows)},
        )
        if dead:
            logger.warning(
                "central rejected %d readings of batch %s (dead-lettered): %s",
                len(dead),
                batch.batch_id,
                dead[0][1],
            )

    async def _refused(self, central: CentralClient, batch: Batch, reason: str) -> list[Ack]:
        """A whole batch refused: split it until the culprit readings are alone, then dead-letter those."""
        rows = batch.rows
        if len(rows) == 1:
            logger.warning("central refused a reading alone (%s): dead-lettered", reason)
            return [Ack(batch, None, [(rows[0], reason)], utcnow())]
        half = len(rows) // 2
        acks: list[Ack] = []
        for part in (rows[:half], rows[half:]):
            piece = prepare(part)
            try:
                acks += await self._upload(central, piece)
            except BatchRefused as err:
                acks += await self._refused(central, piece, str(err))
        return acks

    def _learn_limit(self, batch: Batch, acks: list[Ack]) -> None:
        """After central refused a whole batch and took all of its pieces, upload at most the largest piece."""
        if len(acks) < 2 or any(
            ack.answer is None for ack in acks
        ):  # not split, or split down to a bad reading
            return
        largest = max(len(ack.batch.rows) for ack in acks)
        if largest < self.batch_size:
            # An edge whose BATCH_SIZE is above central's would otherwise send every batch twice or more.
            logger.warning(
                "central refused a batch of %d readings but took pieces of %d: uploading at most %d from now on"
                " (set this edge's BATCH_SIZE to central's)",
                len(batch.rows),
                largest,
                largest,
            )
            self.batch_size = largest

    def _record_failure(self, err: Exception, total: SyncResult) -> None:
        total.errors.append(str(err))
        if isinstance(err, Unauthorized):
            total.outcome = "unauthorized"
            self.set_state("unauthorized", str(err))
        elif isinstance(err, RateLimited):
            total.outcome = "rate_limited"
            self.not_before = time.monotonic() + err.retry_after
            self.set_state("rate_limited", f"retry after {err.retry_after:g} s")
        else:
            total.outcome = "unreachable"
            self.set_state("unreachable", str(err), since=total.unreachable_from)

    async def log_failure(self, total: SyncResult) -> None:
        """Write a failed cycle to the sync log."""
        if total.outcome == "ok":
            return
        await add_sync_log(
            self.outbox.engine,
            {
                "success": False,
                "outcome": total.outcome,
                "error_message": "; ".join(total.errors)[:1000],
                "started_at": total.started_at,
                "finished_at": max(utcnow(), total.started_at),
            },
        )
