"""Deferred summary maintenance: an upload records the ranges it touched; workers fold them into the summary.

The ingest transaction writes one rollup_dirty row per part its points fall in (part = point id %
ROLLUP_PARTS), so the record is durable with the readings; a worker (api/background/rollup_worker.py) claims
one part's rows (every free part's while the queue is short), folds each point's claimed ranges into the 15-minute
energy summary (db/central/energy_summary.py) and deletes the claimed rows, all in one transaction. Parts
hold disjoint points, so different parts fold at once on different connections (and cores): one part at a
time kept a 2-core server's second core idle while a backlog was folded. The summary is the one stored
aggregate: the hourly and daily rollups it replaced are no longer written (their tables keep the history
folded before; docs/energy-data.md). SQLite stores no summary: its queue only drains. On PostgreSQL claims use
`FOR UPDATE SKIP LOCKED`, and advisory locks on point slots keep two transactions from folding one point at
once (a fold extends the state the one before left); rows written before parts existed are part 0 and may
hold any point, which those locks cover too.
"""

import asyncio
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import orjson
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.central.energy_summary import fold_summary
from db.central.ingest.spans import MicrosecondSpans
from db.central.rollups.carried import Carried, carried_parts, collect
from db.central.rollups.models import RollupDirty
from db.central.rollups.points import LOCK_CLASS, LOCK_SLOTS, lock_point_slots, point_infos
from db.clock import utcnow
from db.engine import asyncpg_connection, make_sessionmaker, session_scope

logger = logging.getLogger(__name__)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
CLAIM_ROWS = 1_000  # queued rows (an upload's ranges of one part) folded per transaction at most
# Queued readings a round claims at most (carried rows: ~18 bytes a reading in memory, twice over while joined).
# A round folds each of its points once; a part's backlog claimed 200 rows at a time was folded in two rounds
# when it held a few rows more (`bench ingest`: 204 uploads a part, ~12 ms a part for the second round).
CLAIM_READINGS = 500_000
ROLLUP_PARTS = 4  # divides LOCK_SLOTS: a part's points lock slots no other part locks
ALL_PARTS = tuple(range(ROLLUP_PARTS))
# Queued readings of a worker's first part that make a backlog: then the other parts are left to other
# workers, which fold them at once on other connections. With fewer, every free part joins the round: its
# fixed statements (~15, a few ms) are paid once, not per part. Counted from the carried rows (CARRIED_BYTES
# a reading, a few more a point); a queue row without them counts as UNCARRIED_READINGS. Until the
# thirteenth pass the rule was 16 queue rows, whatever they held: 100 sites' uploads of 60 readings each
# were folded in four rounds, 37-42 ms, against 30-31 ms in one (docs/ingest.md).
ENOUGH_READINGS = 20_000
UNCARRIED_READINGS = ENOUGH_READINGS // 16
CARRIED_BYTES = 18  # timestamptz_send, float8send, int2send


def _us(ts: datetime) -> int:
    # whole seconds from the float timestamp are exact; the microseconds are added as an integer
    return int(ts.timestamp()) * 1_000_000 + ts.microsecond


def _ts(us: int) -> datetime:
    return EPOCH + us * MICROSECOND


def queue_insert(parts: str, spans: str, queued_at: str, carried: str) -> str:
    """SQL inserting an upload's queue rows from three parallel arrays (placeholders as given: db/central/ingest/
    batch.py puts it in the claim's own statement), without its WHERE."""
    return (
        "INSERT INTO rollup_dirty (part, spans, queued_at, carried) SELECT p, s, "
        f"{queued_at}, c FROM unnest({parts}::smallint[], {spans}::json[], {carried}::bytea[]) AS t(p, s, c)"
    )


_QUEUE = queue_insert("$1", "$2", "$3", "$4")


def queue_rows(
    touched: Mapping[int, tuple[datetime, datetime]], stored: bytes | None
) -> tuple[list[int], list[str], list[bytes | None]]:
    """An upload's queue rows as parallel arrays: rollup parts, their ranges as JSON (_ranges) and their
    carried rows (db/central/rollups/carried.py; None when stored is None)."""
    parts = _ranges(touched)
    carried = carried_parts(stored, ROLLUP_PARTS)
    return (
        list(parts),
        [orjson.dumps(spans).decode() for spans in parts.values()],
        [carried.get(part) for part in parts],
    )


def _ranges(touched: Mapping[int, tuple[datetime, datetime]]) -> dict[int, list]:
    """Per rollup part, its points' ranges as [[lo_us, hi_us, [point_id, …]], …]."""
    if isinstance(touched, MicrosecondSpans):  # the C decoder's: no datetime made or read
        spans, us = touched.micros, int
    else:
        spans, us = touched, _us
    groups: dict[tuple, list[int]] = defaultdict(list)
    for pid, span in spans.items():  # an edge batch usually holds the same instants for every point
        groups[(pid % ROLLUP_PARTS, *span)].append(pid)
    parts: dict[int, list] = defaultdict(list)
    for (part, lo, hi), pids in groups.items():
        parts[part].append([us(lo), us(hi), pids])
    return parts


async def record_dirty(
    session: AsyncSession,
    site_id: int,
    touched: Mapping[int, tuple[datetime, datetime]],
    stored: bytes | None = None,
) -> None:
    """db.central.ingest.batch post-insert hook: remember the upload's ranges, a row per rollup part (queue_rows);
    stored, the binary COPY payload of the upload's rows when every one of them was stored, is carried along
    for the fold. A new batch's COPY on PostgreSQL inserts the same rows in its claim's statement instead."""
    if not touched:
        return
    now = utcnow()
    if session.bind.dialect.name == "postgresql":  # on every upload: raw asyncpg, not an ORM statement
        parts, spans, carried = queue_rows(touched, stored)
        await (await asyncpg_connection(session)).execute(_QUEUE, parts, spans, now, carried)
        return
    rows = [{"part": p, "spans": s, "queued_at": now} for p, s in _ranges(touched).items()]
    await session.execute(insert(RollupDirty), rows)


def whole_spans(spans: list) -> dict[int, tuple[datetime, datetime]]:
    """Each point's first and last queued time over the claimed ranges ([lo_us, hi_us, [point_id, …]], …):
    the summary refolds the quarters between, however far apart its uploads' ranges lie."""
    bounds: dict[int, list[int]] = {}
    for lo, hi, pids in spans:
        for pid in pids:
            found = bounds.get(pid)
            if found is None:
                bounds[pid] = [lo, hi]
            else:
                found[0], found[1] = min(found[0], lo), max(found[1], hi)
    return {pid: (_ts(lo), _ts(hi)) for pid, (lo, hi) in bounds.items()}


async def queue_state(session: AsyncSession) -> tuple[int, float]:
    """Rows waiting in rollup_dirty (an upload's ranges of one part each), and the oldest one's age in seconds
    (0 when none, or none has its time: rows queued before migration 0014).

    The age is how far the summary trails the uploads; "time since the queue was last seen empty" (the
    metric's old meaning) grows without end under steady uploads that are folded within seconds.
    """
    waiting, age, _ = await queue_look(session)
    return waiting, age


async def queue_look(session: AsyncSession) -> tuple[int, float, int | None]:
    """queue_state, and the oldest queued row's id (None when none): rows are claimed oldest first, so any
    worker's fold changes it, and uploads arriving do not."""
    count, oldest, head = (
        await session.execute(select(func.count(), func.min(RollupDirty.queued_at), func.min(RollupDirty.id)))
    ).one()
    age = max(0.0, (utcnow() - oldest).total_seconds()) if oldest is not None else 0.0
    return int(count or 0), age, head


async def autovacuum_runs(session: AsyncSession) -> bool:
    """Whether PostgreSQL's autovacuum is on (SQLite: nothing to vacuum). The queue's folded rows are deleted
    and the summary's states rewritten at every fold: without it their dead rows pile up, and every claim,
    backlog check and queue-state count reads past them (docs/operations.md)."""
    if session.bind.dialect.name != "postgresql":
        return True
    return await session.scalar(text("SELECT current_setting('autovacuum')")) == "on"


_TRY_PART = "SELECT pg_try_advisory_xact_lock($1, $2)"
# the parts whose round this transaction now holds, in the order given
_TRY_PARTS = (
    "SELECT array_agg(p ORDER BY n) FROM unnest($3::int[]) WITH ORDINALITY AS t(p, n) "
    "WHERE pg_try_advisory_xact_lock($1, $2 + p)"
)
# One text for every round: SQLAlchemy's IN of the claimed ids was a statement of its own per row count.
_DELETE_CLAIMED = "DELETE FROM rollup_dirty WHERE id = ANY($1::bigint[])"


# more queued rows than one round claims, or enough readings for every part (octet_length reads no TOAST)
_BACKLOG = text(
    "SELECT count(*) > :rows OR coalesce(sum(coalesce(octet_length(carried) / :width, :uncarried)), 0) >= :n "
    "FROM (SELECT carried FROM rollup_dirty LIMIT :rows + 1) AS queued"
)


async def is_backlog(session: AsyncSession) -> bool:
    """Whether the queue is worth folding part by part on several connections (PostgreSQL): more rows than
    one claim, or ENOUGH_READINGS queued readings per part."""
    return await _holds(session, ENOUGH_READINGS * ROLLUP_PARTS)


async def holds_a_claim(session: AsyncSession) -> bool:
    """Whether the queue holds a round's worth: more rows than one claim, or CLAIM_READINGS queued readings
    (PostgreSQL; SQLite's queue only drains, and any of it is worth draining)."""
    if session.bind.dialect.name != "postgresql":
        return True
    return await _holds(session, CLAIM_READINGS)


async def _holds(session: AsyncSession, readings: int) -> bool:
    params = {"rows": CLAIM_ROWS, "width": CARRIED_BYTES, "uncarried": UNCARRIED_READINGS, "n": readings}
    return bool(await session.scalar(_BACKLOG, params))


def queued_readings(blobs: Sequence[bytes | None]) -> int:
    """About how many readings queue rows hold, from their carried rows (UNCARRIED_READINGS without)."""
    return sum(len(blob) // CARRIED_BYTES if blob is not None else UNCARRIED_READINGS for blob in blobs)


# The oldest queued rows of the parts: at most $2 of them, and those with fewer than $3 queued readings before
# them (the row that reaches $3 is claimed: a round makes progress whatever one row holds); octet_length
# reads no TOAST. One text for every round: building it as an ORM select cost ~1.8 ms a round. The spans come
# as text for orjson (0.2 µs a row; the connection's json codec, SQLAlchemy's standard-library json, 1.6 µs).
_CLAIM_PG = f"""
SELECT id, spans::text, carried FROM rollup_dirty WHERE id = ANY(ARRAY(
  SELECT id FROM (
    SELECT id, sum(n) OVER (ORDER BY id) - n AS before FROM (
      SELECT id, coalesce(octet_length(carried) / {CARRIED_BYTES}, {UNCARRIED_READINGS}) AS n
      FROM rollup_dirty WHERE part = ANY($1::smallint[]) ORDER BY id LIMIT $2
    ) AS queued
  ) AS counted WHERE before < $3
)) ORDER BY id FOR UPDATE"""
_CLAIMS_PG = {True: _CLAIM_PG + " SKIP LOCKED", False: _CLAIM_PG}


async def _claim(
    session: AsyncSession, parts: Sequence[int], skip_locked: bool, taken: Sequence = ()
) -> list[tuple[int, list, bytes | None]]:
    """The oldest queued (id, spans, carried) rows of the parts, as many as the limits (CLAIM_ROWS rows,
    CLAIM_READINGS readings) leave after the rows taken, locked for this transaction on PostgreSQL."""
    limit = CLAIM_ROWS - len(taken)
    if session.bind.dialect.name != "postgresql":
        query = select(RollupDirty.id, RollupDirty.spans, RollupDirty.carried)
        query = query.where(RollupDirty.part.in_(list(parts))).order_by(RollupDirty.id).limit(limit)
        return [tuple(row) for row in (await session.execute(query)).all()]
    budget = CLAIM_READINGS - queued_readings([blob for *_, blob in taken])
    conn = await asyncpg_connection(session)
    return [
        (row_id, orjson.loads(spans), carried)
        for row_id, spans, carried in await conn.fetch(_CLAIMS_PG[skip_locked], list(parts), limit, budget)
    ]


class FoldRound(NamedTuple):
    """What a fold round did: queue rows claimed, whether its first part was a backlog folded alone, and
    whether the claim reached a limit (CLAIM_ROWS rows or CLAIM_READINGS readings: more may be waiting)."""

    rows: int
    alone: bool
    full: bool


async def process_once(
    session: AsyncSession,
    parts: Sequence[int] = ALL_PARTS,
    *,
    skip_locked: bool = True,
    enough: int | None = None,
) -> int:
    """Claim queued rows of the parts (CLAIM_ROWS rows, CLAIM_READINGS readings at most), fold them into the
    summary, delete them; returns rows claimed (fold_round)."""
    return (await fold_round(session, parts, skip_locked=skip_locked, enough=enough)).rows


async def fold_round(
    session: AsyncSession,
    parts: Sequence[int] = ALL_PARTS,
    *,
    skip_locked: bool = True,
    enough: int | None = None,
) -> FoldRound:
    """Claim queued rows of the parts (CLAIM_ROWS rows, CLAIM_READINGS readings at most), fold them into the
    summary, delete them (FoldRound; enough: a part's queued readings that make a backlog, ENOUGH_READINGS
    unless given).

    With skip_locked (the workers), a part is taken only when no other worker's round holds it: its uploads
    touch the same points, so one worker folding them costs less than several folding the same buckets.
    The first part comes alone: when it holds `enough` readings or a full claim (a backlog), the other parts
    are left to other workers, which fold them at once; otherwise (live uploads) every free part joins the
    same round, as cheap as one queue. flush_rollups waits for other claims instead (skip_locked=False) and
    takes every part given at once.
    """
    postgres = session.bind.dialect.name == "postgresql"
    enough = ENOUGH_READINGS if enough is None else enough
    alone = False
    if postgres and skip_locked:
        rows = []
        conn = await asyncpg_connection(session)
        if await conn.fetchval(_TRY_PART, LOCK_CLASS, LOCK_SLOTS + parts[0]):
            rows = await _claim(session, parts[:1], skip_locked)
        alone = len(rows) >= CLAIM_ROWS or queued_readings([blob for *_, blob in rows]) >= enough
        if not alone and len(parts) > 1:
            held = await conn.fetchval(_TRY_PARTS, LOCK_CLASS, LOCK_SLOTS, list(parts[1:]))
            if held:
                rows += await _claim(session, held, skip_locked, taken=rows)
    else:
        rows = await _claim(session, parts, skip_locked)
    if not rows:
        return FoldRound(0, alone, False)
    full = len(rows) >= CLAIM_ROWS or queued_readings([blob for *_, blob in rows]) >= CLAIM_READINGS
    spans = [span for _, row_spans, _ in rows for span in row_spans]
    touched = whole_spans(spans)
    if postgres:
        await lock_point_slots(session, touched)
        carried = collect([(row_spans, blob) for _, row_spans, blob in rows])
        await _fold_pg(session, touched, await point_infos(session, sorted(touched)), carried)
        await (await asyncpg_connection(session)).execute(_DELETE_CLAIMED, [row[0] for row in rows])
    else:  # no stored summary: the queue only drains
        await session.execute(delete(RollupDirty).where(RollupDirty.id.in_([row[0] for row in rows])))
    logger.debug("folded %d queued rows (%d ranges) into the energy summary", len(rows), len(spans))
    return FoldRound(len(rows), alone, full)


async def _fold_pg(
    session: AsyncSession,
    spans: Mapping[int, tuple[datetime, datetime]],
    infos,
    carried: Mapping[int, Carried],
) -> None:
    """Fold the claimed ranges into the energy summary, reading the new readings once (or only the rows around
    them, for the points whose claimed rows carry theirs)."""
    conn = await asyncpg_connection(session)
    # For this transaction only. jit: the planner's estimates of the laterals pass jit_above_cost, and compiling
    # them cost seconds for lookups of a few ms. Bitmap scans: a point's rows came unordered and were sorted again
    # (the estimate for a lateral's range is a few rows; it is a round's worth, in time order).
    await conn.execute("SELECT set_config('jit', 'off', true), set_config('enable_bitmapscan', 'off', true)")
    await fold_summary(session, spans, infos, carried=carried)


async def pending(session: AsyncSession) -> int:
    """Queued rows whose ranges are not folded into the summary yet."""
    return (await queue_state(session))[0]


async def flush_rollups(target: AsyncSession | AsyncEngine | async_sessionmaker) -> int:
    """Fold every queued range into the summary now, waiting for workers' claims; returns rows folded.

    With a session, runs in the caller's transaction; with an engine or sessionmaker, commits per round,
    and on PostgreSQL a backlog (ENOUGH_READINGS queued readings per part, or more rows than one claim)
    folds the parts at once, one
    connection each (as many as the pool gives). SQLite takes one writer at a time.
    """
    if isinstance(target, AsyncSession):
        total = 0
        while claimed := await process_once(target, skip_locked=False):
            total += claimed
        return total
    sessions = make_sessionmaker(target) if isinstance(target, AsyncEngine) else target

    async def flush(parts: Sequence[int]) -> int:
        total = 0
        while True:
            async with session_scope(sessions) as session:
                claimed = await process_once(session, parts, skip_locked=False)
            if not claimed:
                return total
            total += claimed

    async with session_scope(sessions) as session:
        postgres = session.bind.dialect.name == "postgresql"
        backlog = postgres and await is_backlog(session)
        total = 0 if backlog else await process_once(session, skip_locked=False)  # short: one round
    if backlog:
        total = sum(await asyncio.gather(*(flush((part,)) for part in ALL_PARTS)))
    return (total + await flush(ALL_PARTS)) if total else 0
