"""Reading rollups back: a point's hourly/daily series and pages of them."""

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.central.energy_fold import EPOCH, MICROSECOND
from db.central.models import Reading
from db.central.rollups.models import DailyRollup, HourlyRollup
from db.engine import asyncpg_connection

RESOLUTIONS = {"HOUR": HourlyRollup, "DAY": DailyRollup}
HOUR = timedelta(hours=1)


def rollup_select(point_id: int, start: datetime, end: datetime, resolution: str):
    """SELECT of a point's buckets overlapping [start, end), oldest first (HOUR or DAY)."""
    model = RESOLUTIONS[resolution]
    if model is DailyRollup:
        overlaps = (model.bucket_end > start, model.bucket < end)
    else:
        overlaps = (model.bucket > start - timedelta(hours=1), model.bucket < end)
    return select(model).where(model.point_id == point_id, *overlaps).order_by(model.bucket)


def bucket_quality(count: int, good_count: int, usable: bool = False) -> int:
    """0 when every reading of a bucket was good; 2 only when none was usable (all bad); 1 otherwise.

    The rollups count good (0) readings only, so a bucket without any says `usable` (an estimated reading
    of quality 1 is uncertain, not bad).
    """
    if good_count == count:
        return 0
    return 1 if good_count > 0 or usable else 2


async def _usable_buckets(
    session: AsyncSession, point_id: int, spans: list[tuple[datetime, datetime]]
) -> set:
    """Starts of the spans holding a usable (quality < 2) raw reading."""
    found = set()
    for start, end in spans:
        hit = await session.scalar(
            select(Reading.ts)
            .where(Reading.point_id == point_id, Reading.ts >= start, Reading.ts < end, Reading.quality < 2)
            .limit(1)
        )
        if hit is not None:
            found.add(start)
    return found


# The earliest queued reading of a point that the worker has not folded yet (microseconds since 1970).
_UNFOLDED_FROM = """
SELECT min((x->>0)::bigint) FROM rollup_dirty d, json_array_elements(d.spans) x
WHERE EXISTS (SELECT 1 FROM json_array_elements_text(x->2) p WHERE p::bigint = $1)
"""

# Whole buckets from the one holding `cut` (or `start`, when later) up to end, from raw readings, with the
# rollup page's columns and whether a usable reading is among them. $5: 'hour' or 'day'.
_RAW_BUCKETS = """
WITH z AS (
  SELECT CASE WHEN $5 = 'day' THEN s.timezone ELSE 'UTC' END AS tz
  FROM data_points dp JOIN meters m ON m.id = dp.meter_id JOIN sites s ON s.id = m.site_id WHERE dp.id = $1
),
w AS (SELECT tz, greatest(date_trunc($5, $2::timestamptz, tz), date_trunc($5, $3::timestamptz, tz)) AS lo FROM z)
SELECT b, sum(value), min(value), max(value), count(*)::int, (count(*) FILTER (WHERE quality = 0))::int,
  bool_or(quality < 2)
FROM (
  SELECT date_trunc($5, r.ts, w.tz) AS b, r.value, r.quality
  FROM w JOIN readings r ON r.point_id = $1 AND r.ts >= w.lo AND r.ts < $4::timestamptz + interval '26 hours'
) x
WHERE b < $4 AND ($6::timestamptz IS NULL OR b > $6)
GROUP BY b ORDER BY b LIMIT $7
"""


async def _unfolded_from(session: AsyncSession, point_id: int) -> datetime | None:
    """Time of the point's earliest reading still queued for the rollup worker (PostgreSQL; else None)."""
    if session.bind.dialect.name != "postgresql":
        return None
    us = await (await asyncpg_connection(session)).fetchval(_UNFOLDED_FROM, point_id)
    return None if us is None else EPOCH + us * MICROSECOND


async def rollup_page(
    session: AsyncSession,
    point_id: int,
    start: datetime,
    end: datetime,
    resolution: str,
    after: datetime | None,
    limit: int,
) -> list[tuple]:
    """(bucket, mean, min, max, count, quality) of buckets with readings, for db.central.storage.readings_query pages.

    Buckets holding or following a reading the worker has not folded yet are computed from raw readings, so a
    page is exact while the worker lags (PostgreSQL).
    """
    model = RESOLUTIONS[resolution.upper()]
    end_column = model.bucket_end if model is DailyRollup else model.bucket
    columns = (
        model.bucket,
        model.sum_value,
        model.min_value,
        model.max_value,
        model.count,
        model.good_count,
        end_column,
    )
    cut = await _unfolded_from(session, point_id)
    query = rollup_select(point_id, start, end, resolution.upper()).with_only_columns(*columns)
    query = query.where(model.count > 0)
    if after is not None:
        query = query.where(model.bucket > after)
    if cut is not None:  # only buckets wholly before the first unfolded reading
        query = query.where(model.bucket_end <= cut if model is DailyRollup else model.bucket <= cut - HOUR)
    rows = (await session.execute(query.limit(limit))).all()
    unsure = [(b, e if model is DailyRollup else b + HOUR) for b, *_, n, good, e in rows if good == 0]
    usable = await _usable_buckets(session, point_id, unsure) if unsure else set()
    page = [
        (b, total / n, lo, hi, n, bucket_quality(n, good, b in usable))
        for b, total, lo, hi, n, good, _ in rows
    ]
    if cut is not None and len(page) < limit:
        raw = await (await asyncpg_connection(session)).fetch(
            _RAW_BUCKETS, point_id, cut, start, end, resolution.lower(), after, limit - len(page)
        )
        page += [
            (b, total / n, lo, hi, n, bucket_quality(n, good, usable))
            for b, total, lo, hi, n, good, usable in raw
        ]
    return page


async def rollup_series(
    session: AsyncSession, point_id: int, start: datetime, end: datetime, resolution: str
) -> list:
    """A point's HourlyRollup or DailyRollup rows overlapping [start, end)."""
    return list((await session.scalars(rollup_select(point_id, start, end, resolution))).all())


async def stream_rollups(
    session: AsyncSession, point_id: int, start: datetime, end: datetime, resolution: str
) -> AsyncIterator:
    """The same rows as rollup_series, fetched in chunks (for exports of long ranges)."""
    result = await session.stream_scalars(
        rollup_select(point_id, start, end, resolution).execution_options(yield_per=2000)
    )
    async for row in result:
        yield row
