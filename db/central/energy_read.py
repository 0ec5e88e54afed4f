"""Reading a point's energy parts: raw readings window by window, or the stored summary plus raw edges.

The summary (db/central/energy_summary.py) holds a point's quarters [folded_from, tail_start) exactly; a query
takes stored local days (day and month buckets) or quarters there and computes every other quarter from
raw readings: before folded_from, from tail_start on (the quarter of the newest usable reading folded, and the
readings not folded yet), quarters whose longest interval exceeds the page's gap limit (their coverage depends on
it) and quarters not yet over (their coverage stops at now). A point with a queued reading at or before
its newest folded usable one (a late upload the worker has not folded) is read raw altogether.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.central.energy_parts import FLOAT_SLACK, Part, quarter_floor, quarter_parts, set_peak
from db.central.models import Reading
from db.central.storage.lookups import window_rows
from db.energy import BAD_QUALITY, Sample, local_day, local_day_bounds
from db.engine import asyncpg_connection

MAX_WINDOW = timedelta(days=32)  # the raw readings one step reads at most
HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class SummaryState:
    """The quarters [folded_from, tail_start) of a point the summary holds exactly."""

    folded_from: datetime
    tail_start: datetime


_WINDOW_PG = window_rows("$1", "$2", "$3")


async def read_window(
    session: AsyncSession, point_id: int, lo: datetime, hi: datetime
) -> tuple[list[Sample], bool]:
    """Readings in [lo, hi) with the usable neighbours outside it; whether any reading follows hi."""
    if session.bind.dialect.name == "postgresql":
        # One round trip straight through asyncpg: a month of one-minute rows is 44,000 rows, and
        # SQLAlchemy's row processing cost several times the query itself.
        rows = await (await asyncpg_connection(session)).fetch(_WINDOW_PG, point_id, lo, hi)
        samples = [Sample(*row) for row in rows]
        return samples, any(s.ts >= hi for s in samples)
    base = select(Reading.ts, Reading.value, Reading.quality).where(Reading.point_id == point_id)
    usable = base.where(Reading.quality < BAD_QUALITY)
    inside = await session.execute(base.where(Reading.ts >= lo, Reading.ts < hi).order_by(Reading.ts))
    before = await session.execute(usable.where(Reading.ts < lo).order_by(Reading.ts.desc()).limit(1))
    after = await session.execute(usable.where(Reading.ts >= hi).order_by(Reading.ts).limit(1))
    tail = after.all()
    rows = [*before.all(), *inside.all(), *tail]
    return [Sample(ts, value, quality) for ts, value, quality in rows], bool(tail)


async def next_reading(session: AsyncSession, point_id: int, at: datetime) -> datetime | None:
    """Time of the point's first reading at or after at."""
    return await session.scalar(
        select(Reading.ts).where(Reading.point_id == point_id, Reading.ts >= at).order_by(Reading.ts).limit(1)
    )


# With the times of the first readings from the page's start (the meter's interval is their median spacing).
_STATE = """
SELECT s.folded_from, s.tail_start, EXISTS (
  SELECT 1 FROM rollup_dirty d, json_array_elements(d.spans) x
  WHERE (x->>0)::bigint <= coalesce((extract(epoch FROM s.last_usable) * 1000000)::bigint, 9223372036854775807)
    AND EXISTS (SELECT 1 FROM json_array_elements_text(x->2) p WHERE p::bigint = s.point_id)
), (SELECT array_agg(ts ORDER BY ts) FROM (
      SELECT ts FROM readings WHERE point_id = $1 AND ts >= $2 ORDER BY ts LIMIT $3) f)
FROM (SELECT 1) one LEFT JOIN energy_summary_state s ON s.point_id = $1
"""
INTERVAL_SAMPLE = 500  # readings whose median spacing is the meter's interval when none is configured


async def summary_state(
    session: AsyncSession, point_id: int, at: datetime
) -> tuple[SummaryState | None, list[datetime] | None]:
    """The point's summary range (None when there is none or a late reading waits to be folded) and the
    times of its first INTERVAL_SAMPLE readings from `at` (None when not read here)."""
    if session.bind.dialect.name != "postgresql":
        return None, None
    folded_from, tail_start, stale, stamps = await (await asyncpg_connection(session)).fetchrow(
        _STATE, point_id, at, INTERVAL_SAMPLE
    )
    state = SummaryState(folded_from, tail_start) if folded_from is not None and not stale else None
    return state, list(stamps or [])


_STORED = """
(SELECT false, bucket, bucket_end, count, flagged, usable, vsum, vmin, vmax, first_value, last_value,
   consumption, span_seconds, longest, false, peak, peak_at, hours::text
 FROM energy_days WHERE point_id = $1 AND bucket >= $2 AND bucket_end <= $3 ORDER BY bucket)
UNION ALL
(SELECT true, q, q + interval '15 minutes', count, flagged, usable, vsum, vmin, vmax, first_value,
   last_value, consumption, span_seconds, longest, whole, NULL, NULL, NULL
 FROM energy_quarters WHERE point_id = $1 AND (q >= $4 AND q < $5 OR q >= $6 AND q < $7) ORDER BY q)
"""


def _stored_part(row, cumulative: bool, priced: bool) -> Part:
    # positional, in Part's field order: a page of a year of days builds ~370 of these
    quarter, start, end, count, flagged, usable, vsum, vmin, vmax, first, last, used, span, longest = row[:14]
    whole, peak, peak_at, hours = row[14:]
    if quarter:
        part = Part(
            start, end, count, flagged, usable, vsum, vmin, vmax, first, last, used, span, longest, span
        )
        part.whole = whole
        set_peak(part, cumulative)
        return part
    part = Part(
        start,
        end,
        count,
        flagged,
        usable,
        vsum,
        vmin,
        vmax,
        first,
        last,
        used,
        span,
        longest,
        span,
        whole,
        peak,
        peak_at,
    )
    if priced:  # a day's consumption per local hour is read only to price it
        part.hours = {start + int(h) * HOUR: c for h, c in json.loads(hours).items()} if hours else {}
    return part


async def summary_parts(
    session: AsyncSession,
    point,
    state: SummaryState,
    lo: datetime,
    hi: datetime,
    days: bool,
    gap: float,
    now: datetime,
    snapshot=None,
) -> list[Part]:
    """Parts covering [lo, hi), oldest first: stored where exact, raw quarters elsewhere (point: EnergyPoint).

    snapshot: what energy_snapshot.summary_snapshots read for this [lo, hi) (rows, first raw windows), if any.
    """
    if snapshot is not None and (snapshot.lo, snapshot.hi) != (lo, hi):
        snapshot = None
    a, b = max(lo, state.folded_from), min(hi, state.tail_start)
    stored: list[Part] = []
    raw: list[tuple[datetime, datetime]] = []
    if a < b:
        d0, d1 = a, a  # local days wholly inside [a, b) come from day rows
        if days:
            d0 = local_day_bounds(local_day(a, point.timezone), point.timezone)[0]
            d0 = d0 if d0 >= a else local_day_bounds(local_day(a, point.timezone), point.timezone)[1]
            d1 = local_day_bounds(local_day(b, point.timezone), point.timezone)[0]
            d0, d1 = (d0, d1) if d0 < d1 else (a, a)
        if snapshot is not None:
            rows = snapshot.stored
        else:
            rows = await (await asyncpg_connection(session)).fetch(
                _STORED, point.point_id, d0, d1, a, d0, d1, b
            )
        priced, limit = point.price is not None, gap + FLOAT_SLACK
        for row in rows:
            part = _stored_part(row, point.cumulative, priced)
            if part.longest <= limit and part.end <= now:
                stored.append(part)
            else:
                raw.append((part.start, part.end))
        raw += [(lo, a), (b, hi)]
    else:
        raw.append((lo, hi))
    windows = snapshot.windows if snapshot is not None else None
    parts = stored + await raw_parts(session, point, _merge(raw), gap, now, windows)
    return sorted(parts, key=lambda p: p.start)


def _merge(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[list[datetime]] = []
    for s, e in sorted(x for x in spans if x[0] < x[1]):
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return [(s, e) for s, e in merged]


async def raw_parts(
    session: AsyncSession,
    point,
    spans: list[tuple[datetime, datetime]],
    gap: float,
    now: datetime,
    windows: dict | None = None,
) -> list[Part]:
    """Quarter parts of the spans from raw readings, at most MAX_WINDOW of readings at a time.

    windows: (start, stop) -> read_window's answer and next_reading(stop), for windows already read
    (energy_snapshot.summary_snapshots).
    """
    out: list[Part] = []
    for lo, hi in spans:
        start = quarter_floor(lo)
        while start < hi:
            stop = min(hi, start + MAX_WINDOW)
            known = windows.get((start, stop)) if windows is not None else None
            if known is not None:
                samples, more, following = known
            else:
                samples, more = await read_window(session, point.point_id, start, stop)
            if not any(start <= s.ts < stop for s in samples) and not (more and samples[0].ts < start):
                # nothing in or across: skip ahead
                nxt = following if known is not None else await next_reading(session, point.point_id, stop)
                if nxt is None or nxt >= hi:
                    break
                start = max(stop, quarter_floor(nxt))
                continue
            out += quarter_parts(
                samples, start, stop, cumulative=point.cumulative, rollover=point.rollover, gap=gap, now=now
            )
            start = stop
    return out
