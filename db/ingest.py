"""Idempotent batch ingest of uploaded readings: the one place for the dialect fast paths of reading inserts.

PostgreSQL: one `INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING` per batch (its status tag counts
the new rows). SQLite: one executemany `INSERT OR IGNORE`. The batch row in upload_batches is written in
the same transaction, first, so a replayed (or concurrently repeated) batch id gets the stored answer.
"""

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.central_models import Reading, UploadBatch
from db.points import resolve_points
from db.wire import ReadingIn, validation_context

logger = logging.getLogger(__name__)

_LIST_ADAPTER = TypeAdapter(list[ReadingIn])
LATEST_PER_METER = 10

# (session, site_id, {point_id: (min_ts, max_ts)}) -> None, called inside the ingest transaction after the
# rows are inserted: the seam where rollup maintenance (energy) keeps derived tables in step.
PostInsertHook = Callable[[AsyncSession, int, dict[int, tuple[datetime, datetime]]], Awaitable[None]]
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
    touched: dict[int, tuple[datetime, datetime]] = field(default_factory=dict)
    per_meter: dict[tuple[int, str], dict] = field(default_factory=dict)

    def result(self) -> dict:
        """JSON-ready counts and rejections (what upload_batches.result keeps)."""
        return {
            "batch_id": self.batch_id,
            "new": self.new,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "rejections": self.rejections,
        }


def _reason(err: ValidationError) -> str:
    first = err.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first.get("loc", ())) or "reading"
    return f"{where}: {first.get('msg', 'invalid')}"


def validate_readings(items: Sequence) -> tuple[list[tuple[int, ReadingIn]], list[dict]]:
    """Validate each item as a ReadingIn; return (index, reading) pairs and {index, reason} rejections."""
    context = validation_context()
    try:
        return list(enumerate(_LIST_ADAPTER.validate_python(items, context=context))), []
    except ValidationError:
        pass  # some item is bad: redo one by one so each bad item is rejected alone
    valid, rejections = [], []
    for index, item in enumerate(items):
        try:
            valid.append((index, ReadingIn.model_validate(item, context=context)))
        except ValidationError as err:
            rejections.append({"index": index, "reason": _reason(err)})
        except (TypeError, ValueError) as err:
            rejections.append({"index": index, "reason": str(err)})
    return valid, rejections


async def _claim_batch(session: AsyncSession, site_id: int, batch_id: str, count: int) -> dict | None:
    """Insert the batch row; return the stored result instead when the batch id was seen before."""
    values = {"site_id": site_id, "batch_id": batch_id, "reading_count": count, "result": {}}
    if session.bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt = pg_insert(UploadBatch).values(**values).on_conflict_do_nothing()
    else:
        stmt = insert(UploadBatch).values(**values).prefix_with("OR IGNORE")
    claimed = await session.execute(stmt)
    if claimed.rowcount == 1:
        return None
    stored = await session.scalar(
        select(UploadBatch.result).where(UploadBatch.site_id == site_id, UploadBatch.batch_id == batch_id)
    )
    return dict(stored or {})


async def _insert_postgresql(session: AsyncSession, rows: list[tuple]) -> int:
    conn = await session.connection()
    raw = await conn.get_raw_connection()
    status = await raw.driver_connection.execute(
        "INSERT INTO readings (point_id, ts, value, quality) "
        "SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::float8[], $4::smallint[]) "
        "ON CONFLICT DO NOTHING",
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
    )
    return int(status.rsplit(" ", 1)[-1])


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


def _summarize(outcome: IngestOutcome, valid: list[tuple[int, ReadingIn]], points: dict) -> list[tuple]:
    """Rows to insert; fills outcome.touched (per point min/max ts) and outcome.per_meter (count, latest)."""
    rows, lows, highs, latest, counts = [], {}, {}, {}, {}
    append = rows.append
    for _, reading in valid:
        key = (reading.meter_external_id, reading.data_point)
        point_id = points[key][1]
        ts = reading.timestamp
        append((point_id, ts, reading.value, reading.quality.value))
        low = lows.get(point_id)
        if low is None:
            lows[point_id] = highs[point_id] = ts
            latest[point_id] = reading
            counts[key[0]] = counts.get(key[0], 0) + 1
            continue
        counts[key[0]] += 1
        if ts < low:
            lows[point_id] = ts
        elif ts >= highs[point_id]:
            highs[point_id] = ts
            latest[point_id] = reading
    outcome.touched.update((pid, (low, highs[pid])) for pid, low in lows.items())
    meter_keys = {}
    for (meter, _), (meter_id, _) in points.items():
        meter_keys[meter] = (meter_id, meter)
    for meter, count in counts.items():
        outcome.per_meter[meter_keys[meter]] = {"count": count, "latest": {}}
    for reading in latest.values():
        outcome.per_meter[meter_keys[reading.meter_external_id]]["latest"][reading.data_point] = reading
    return rows


async def ingest_batch(session: AsyncSession, site_id: int, batch_id: str, items: Sequence) -> IngestOutcome:
    """Validate and store one uploaded batch in the caller's transaction (idempotent by batch id and key)."""
    stored = await _claim_batch(session, site_id, batch_id, len(items))
    if stored is not None:
        outcome = IngestOutcome(batch_id=batch_id, replayed=True)
        for name in ("new", "duplicates", "rejected"):
            setattr(outcome, name, int(stored.get(name, 0)))
        outcome.rejections = list(stored.get("rejections", []))
        return outcome
    outcome = IngestOutcome(batch_id=batch_id)
    valid, outcome.rejections = validate_readings(items)
    outcome.rejected = len(outcome.rejections)
    units = {(r.meter_external_id, r.data_point): r.unit for _, r in valid}
    points = await resolve_points(session, site_id, units)
    rows = _summarize(outcome, valid, points)
    outcome.new = await insert_rows(session, rows)
    outcome.duplicates = len(rows) - outcome.new
    for hook in POST_INSERT_HOOKS:
        await hook(session, site_id, outcome.touched)
    await session.execute(
        update(UploadBatch)
        .where(UploadBatch.site_id == site_id, UploadBatch.batch_id == batch_id)
        .values(result=outcome.result())
    )
    return outcome


from db.rollup_queue import record_dirty  # noqa: E402  (rollups follow via the worker: db/rollup_queue.py)

register_post_insert_hook(record_dirty)
