"""Idempotent batch ingest of uploaded readings: the one place for the dialect fast paths of reading inserts.

Readings are validated and resolved to point ids first (db/central/ingest/parse.py, db/central/points.py); then, in one
transaction, the batch row in upload_batches is claimed (a replayed, or concurrently repeated, batch id gets
the stored answer instead) and the rows are inserted. PostgreSQL: binary COPY (a new batch, the usual case,
holds no stored key); when COPY meets a stored key, the transaction is rolled back and run again with one
`INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING`, whose status tag counts the new rows (inside a
caller's transaction, a savepoint takes the place of the rollback). SQLite: one executemany `INSERT OR IGNORE`.
On PostgreSQL the COPY payload and each point's span come from one pass in C (db/central/ingest/_rows.c,
`native_rows`) where it is built; the row tuples are then made only if COPY meets a stored key. The fold
queue's rows (db/central/rollups/queue.py record_dirty, a post-insert hook) ride on a COPY's claim statement:
COPY stores every row or fails the transaction, so they are known before it.
"""

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter

import orjson
from sqlalchemy import JSON, bindparam, insert, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.central.ingest.copy_binary import HEADER, MICROSECOND, PG_EPOCH, ROW, TRAILER, encode_rows
from db.central.ingest.parse import ColumnReadings, ParsedReading, first_units, parse_readings
from db.central.ingest.spans import MicrosecondSpans
from db.central.models import Reading, UploadBatch
from db.central.points import known_points, resolve_points
from db.clock import utcnow
from db.engine import asyncpg_connection, driver_connection
from db.types import UTCDateTime

try:
    from db.central.ingest import _rows as native_rows
except ImportError:  # not built (no C compiler at install): _rows_and_spans and encode_rows, in Python
    native_rows = None

logger = logging.getLogger(__name__)

READING_COLUMNS = ["point_id", "ts", "value", "quality"]
_ROW_KEY = itemgetter(0, 1)

# (session, site_id, {point_id: (min_ts, max_ts)}, stored) -> None, called inside the ingest transaction after
# the rows are inserted: the seam where the fold queue (the energy summary) keeps derived tables in step. stored is
# the rows' binary COPY payload when every one of them was stored (None otherwise, or without the C encoder).
PostInsertHook = Callable[
    [AsyncSession, int, dict[int, tuple[datetime, datetime]], bytes | None], Awaitable[None]
]
POST_INSERT_HOOKS: list[PostInsertHook] = []


def register_post_insert_hook(hook: PostInsertHook) -> None:
    """Run hook in every ingest transaction after the readings are inserted (idempotent registration)."""
    if hook not in POST_INSERT_HOOKS:
        POST_INSERT_HOOKS.append(hook)


@dataclass
class IngestOutcome:
    """What one upload did; `result()` is the stored, replayable answer."""

    batch_id: str
    new: int = 0
    duplicates: int = 0
    rejected: int = 0
    replayed: bool = False
    rejections: list[dict] = field(default_factory=list)
    touched: Mapping[int, tuple[datetime, datetime]] = field(default_factory=dict)
    accepted: list[ParsedReading] = field(default_factory=list, repr=False)
    points: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict, repr=False)

    def per_meter(self) -> dict[tuple[int, str], dict]:
        """(meter id, external id) -> {"count": readings, "latest": {point: ParsedReading}} (for events)."""
        meters: dict[tuple[int, str], dict] = {}
        if type(self.accepted) is ColumnReadings:  # no tuple per reading: only each point's newest is kept
            for key, count, reading in self.accepted.per_key():
                info = meters.setdefault((self.points[key][0], key[0]), {"count": 0, "latest": {}})
                info["count"] += count
                info["latest"][key[1]] = reading
            return meters
        for reading in self.accepted:
            key, ts = reading[0], reading[1]
            meter, point = key
            info = meters.setdefault((self.points[key][0], meter), {"count": 0, "latest": {}})
            info["count"] += 1
            known = info["latest"].get(point)
            if known is None or ts >= known[1]:
                info["latest"][point] = reading
        return meters

    def result(self) -> dict:
        """JSON-ready counts and rejections (what upload_batches.result keeps)."""
        return {
            "batch_id": self.batch_id,
            "new": self.new,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "rejections": self.rejections,
        }


# The batch row is written with the answer expected when every row is new (the usual case), so that only a
# batch holding stored keys needs a second write.
_CLAIM = text(
    "INSERT INTO upload_batches (site_id, batch_id, received_at, reading_count, result) "
    "VALUES (:site_id, :batch_id, :received_at, :count, :result) ON CONFLICT DO NOTHING RETURNING 1"
).bindparams(bindparam("received_at", type_=UTCDateTime), bindparam("result", type_=JSON))
_STORED_RESULT = text("SELECT result FROM upload_batches WHERE site_id = :site_id AND batch_id = :batch_id")
_STORED_RESULT = _STORED_RESULT.columns(result=JSON)
_CLAIM_PG = (
    "INSERT INTO upload_batches (site_id, batch_id, received_at, reading_count, result) "
    "VALUES ($1, $2, $3, $4, $5::json) ON CONFLICT DO NOTHING RETURNING 1"
)
_STORED_RESULT_PG = "SELECT result FROM upload_batches WHERE site_id = $1 AND batch_id = $2"
_STORE_RESULT_PG = "UPDATE upload_batches SET result = $3::json WHERE site_id = $1 AND batch_id = $2"


async def _insert_unnest(conn, rows: "list[tuple] | _Payload") -> int:
    if isinstance(rows, _Payload):
        rows = rows.tuples()
    status = await conn.execute(
        "INSERT INTO readings (point_id, ts, value, quality) "
        "SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::float8[], $4::smallint[]) "
        "ON CONFLICT DO NOTHING",
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
    )
    return int(status.rsplit(" ", 1)[-1])


async def _copy_or_insert(conn, rows: list[tuple]) -> int:
    """Insert rows in a transaction already open on conn; binary COPY unless some key is stored already."""
    import asyncpg

    try:
        async with conn.transaction():  # a savepoint: a failed COPY leaves the outer transaction usable
            return await _copy_new(conn, rows)
    except asyncpg.UniqueViolationError:  # insert skipping the stored keys
        return await _insert_unnest(conn, rows)


async def _insert_postgresql(session: AsyncSession, rows: list[tuple]) -> int:
    return await _copy_or_insert(await asyncpg_connection(session), rows)


async def _insert_sqlite(session: AsyncSession, rows: list[tuple]) -> int:
    before = await session.scalar(text("SELECT total_changes()"))
    await session.execute(
        insert(Reading).prefix_with("OR IGNORE"),
        [{"point_id": p, "ts": ts, "value": v, "quality": q} for p, ts, v, q in rows],
    )
    after = await session.scalar(text("SELECT total_changes()"))
    return int(after - before)


async def insert_rows(session: AsyncSession, rows: list[tuple]) -> int:
    """Insert (point_id, ts, value, quality) rows, skipping existing keys; return how many were new."""
    if not rows:
        return 0
    if session.bind.dialect.name == "postgresql":
        return await _insert_postgresql(session, rows)
    return await _insert_sqlite(session, rows)


class _Payload:
    """An upload's rows as one binary COPY payload (the C encoder's); len() is the number of rows."""

    __slots__ = ("data", "count")

    def __init__(self, data: bytes, count: int):
        self.data, self.count = data, count

    def __len__(self) -> int:
        return self.count

    def tuples(self) -> list[tuple]:
        """The (point_id, ts, value, quality) rows again, for the INSERT that skips stored keys."""
        body = self.data[len(HEADER) : len(self.data) - len(TRAILER)]
        return [
            (p, PG_EPOCH + us * MICROSECOND, v, q) for _, _, p, _, us, _, v, _, q in ROW.iter_unpack(body)
        ]


def _copy_rows(accepted: "list[ParsedReading] | ColumnReadings", points: dict) -> tuple[_Payload, dict]:
    """_rows_and_spans with the rows as binary COPY data, in one pass in C (KeyError for a missing point)."""
    if type(accepted) is ColumnReadings:  # decoded in C: the rows come from its records
        point_ids = [points[key][1] for key in accepted.keys]
        data, spans = native_rows.copy_columns(accepted.records, point_ids)
        return _Payload(data, len(accepted)), MicrosecondSpans(spans)
    data, touched = native_rows.copy_rows(accepted, points, _pg_micros)
    return _Payload(data, len(accepted)), touched


def _rows_and_spans(accepted: list[ParsedReading], points: dict) -> tuple[list[tuple], dict]:
    """(point_id, ts, value, quality) rows in (point_id, ts) order (upload order among equal keys), and each
    point's (earliest, latest) timestamp; KeyError for a point missing from points.

    An edge sends each instant for all its points; stored in that order, one point's readings lie a heap
    page or two apart, and the summary fold and raw queries read a page per reading (_rows.c sort_rows).
    """
    rows: list[tuple] = []
    spans: dict[int, tuple[datetime, datetime]] = {}
    append, get = rows.append, spans.get
    for key, ts, value, _, quality in accepted:
        point_id = points[key][1]
        append((point_id, ts, value, quality))
        span = get(point_id)
        if span is None:
            spans[point_id] = (ts, ts)
        elif ts < span[0]:
            spans[point_id] = (ts, span[1])
        elif ts > span[1]:
            spans[point_id] = (span[0], ts)
    rows.sort(key=_ROW_KEY)  # stable: the first of a repeated key stays first, and is the one stored
    return rows, spans


def _pg_micros(ts: datetime) -> int:
    """Microseconds since PostgreSQL's epoch (what the C encoder asks for a timestamp not in UTC)."""
    return (ts - PG_EPOCH) // MICROSECOND


def _refuse_over_limits(outcome: IngestOutcome, refused: dict[tuple[str, str], str], count: int) -> None:
    """Move the readings of points past a limit from accepted to rejections, with their upload index."""
    skipped = {item["index"] for item in outcome.rejections}
    indexes = (index for index in range(count) if index not in skipped)  # accepted keep upload order
    kept = []
    for reading, index in zip(outcome.accepted, indexes, strict=False):
        reason = refused.get(reading[0])
        if reason is None:
            kept.append(reading)
        else:
            outcome.rejections.append(
                {"index": index, "reason": f"{reason} ({reading[0][0]}/{reading[0][1]})"}
            )
    outcome.rejections.sort(key=lambda item: item["index"])
    outcome.accepted = kept
    outcome.rejected = len(outcome.rejections)


def _replayed(batch_id: str, stored: dict) -> IngestOutcome:
    outcome = IngestOutcome(batch_id=batch_id, replayed=True)
    for name in ("new", "duplicates", "rejected"):
        setattr(outcome, name, int(stored.get(name, 0)))
    outcome.rejections = list(stored.get("rejections", []))
    return outcome


async def ingest_batch(session: AsyncSession, site_id: int, batch_id: str, items: Sequence) -> IngestOutcome:
    """Validate and store one uploaded batch, idempotent by batch id and reading key.

    Atomic: in the caller's transaction when one is open; on PostgreSQL otherwise in a transaction of its own
    on the session's connection, committed before it returns.
    """
    outcome = IngestOutcome(batch_id=batch_id)
    outcome.accepted, outcome.rejections = parse_readings(items)
    outcome.rejected = len(outcome.rejections)
    outcome.points = known_points(session, site_id)
    postgres = session.bind.dialect.name == "postgresql"
    build = _copy_rows if postgres and native_rows is not None else _rows_and_spans
    try:  # the usual upload: every point seen before, looked up while the rows are built
        rows, outcome.touched = build(outcome.accepted, outcome.points)
    except KeyError:
        refused: dict[tuple[str, str], str] = {}
        outcome.points = await resolve_points(session, site_id, first_units(outcome.accepted), refused)
        if refused:
            _refuse_over_limits(outcome, refused, len(items))
        rows, outcome.touched = build(outcome.accepted, outcome.points)
    outcome.new = len(rows)
    if postgres:
        return await _ingest_postgresql(session, site_id, outcome, rows, len(items))
    keys = {"site_id": site_id, "batch_id": batch_id}
    claim = {**keys, "received_at": utcnow(), "count": len(items), "result": outcome.result()}
    if not await session.scalar(_CLAIM, claim):
        return _replayed(batch_id, dict(await session.scalar(_STORED_RESULT, keys) or {}))
    outcome.new = await insert_rows(session, rows)
    outcome.duplicates = len(rows) - outcome.new
    for hook in POST_INSERT_HOOKS:
        await hook(session, site_id, outcome.touched, None)
    if outcome.duplicates:
        await _store_result(session, site_id, outcome)
    return outcome


async def _ingest_postgresql(
    session: AsyncSession, site_id: int, outcome: IngestOutcome, rows: list[tuple], count: int
) -> IngestOutcome:
    # Plain asyncpg statements: an upload's SQLAlchemy statements cost more CPU than its COPY.
    import asyncpg

    conn = await driver_connection(session)
    if conn.is_in_transaction():  # the caller's transaction: asyncpg's transaction() is a savepoint
        return await _store_batch(conn, session, site_id, outcome, rows, count, _copy_or_insert)
    # A new batch holds no stored key (the usual case): COPY with no savepoint around it (two round trips
    # fewer), and when it meets a stored key, the whole transaction again, skipping the stored keys.
    try:
        return await _store_batch(conn, session, site_id, outcome, rows, count, _copy_new)
    except asyncpg.UniqueViolationError:
        return await _store_batch(conn, session, site_id, outcome, rows, count, _insert_unnest)


async def _copy_new(conn, rows: "list[tuple] | _Payload") -> int:
    """Binary COPY of rows that must all be new (a stored key fails it); a memoryview, as bytes name a file."""
    data = rows.data if isinstance(rows, _Payload) else encode_rows(rows)
    await conn.copy_to_table("readings", source=memoryview(data), columns=READING_COLUMNS, format="binary")
    return len(rows)


async def _store_batch(
    conn, session, site_id: int, outcome: IngestOutcome, rows, count: int, insert
) -> IngestOutcome:
    """Claim the batch id and insert its rows with insert(conn, rows) -> new rows, in one transaction."""
    # COPY stores every row or fails the transaction: the fold queue's rows, which carry the stored rows,
    # can then ride on the claim's statement (a round trip fewer per upload) instead of following the COPY
    queued = record_dirty if insert is _copy_new and record_dirty in POST_INSERT_HOOKS else None
    async with conn.transaction():
        result = orjson.dumps(outcome.result()).decode()
        claim = (site_id, outcome.batch_id, utcnow(), count, result)
        if queued is not None:
            payload = rows.data if isinstance(rows, _Payload) else None
            claimed = await conn.fetchval(_CLAIM_AND_QUEUE_PG, *claim, *queue_rows(outcome.touched, payload))
        else:
            claimed = await conn.fetchval(_CLAIM_PG, *claim)
        if not claimed:
            stored = await conn.fetchval(_STORED_RESULT_PG, site_id, outcome.batch_id)
            return _replayed(outcome.batch_id, dict(stored or {}))  # SQLAlchemy's json codec decoded it
        outcome.new = await insert(conn, rows) if rows else 0
        outcome.duplicates = len(rows) - outcome.new
        stored = rows.data if isinstance(rows, _Payload) and not outcome.duplicates else None
        for hook in POST_INSERT_HOOKS:
            if hook is not queued:
                await hook(session, site_id, outcome.touched, stored)
        if outcome.duplicates:
            await conn.execute(
                _STORE_RESULT_PG, site_id, outcome.batch_id, orjson.dumps(outcome.result()).decode()
            )
    return outcome


async def _store_result(session: AsyncSession, site_id: int, outcome: IngestOutcome) -> None:
    """Keep the final answer with the batch row, for replays."""
    await session.execute(
        update(UploadBatch)
        .where(UploadBatch.site_id == site_id, UploadBatch.batch_id == outcome.batch_id)
        .values(result=outcome.result())
    )


# rollups follow via the worker (db/central/rollups/queue.py)
from db.central.rollups.queue import queue_insert, queue_rows, record_dirty  # noqa: E402

register_post_insert_hook(record_dirty)
_CLAIM_AND_QUEUE_PG = f"""
WITH claim AS ({_CLAIM_PG}),
  queued AS ({queue_insert("$6", "$7", "$3", "$8")} WHERE EXISTS (SELECT FROM claim))
SELECT EXISTS (SELECT FROM claim)
"""
