"""Bulk data of `meterit bench query`: readings generated in SQL, the energy summary built set-based in SQL.

A year of one-minute readings for 100 meters is 52M rows per point kind; generating them in Python and
folding them through the worker's per-window Python (db/central/energy_summary.py) took over an hour. Here
PostgreSQL generates the readings and computes every quarter's figures in one pass per batch of points,
by the rules of db/central/energy_parts.quarter_parts applied to the whole history at once (the same floats:
epoch seconds rounded once, the same products, sums in time order). The local days are then summed by the
fold's own statement, so days and state equal what the worker leaves; tests/bench/test_query_bulk.py holds
the bulk build to the worker's fold row for row.
"""

import asyncio
import time
from datetime import datetime

import asyncpg

from db.central.energy_parts import QUARTER, quarter_floor
from db.central.energy_summary import sum_days
from db.central.rollups.points import point_infos
from db.engine import session_scope

# One meter's minutes: a daily power curve with noise (kW) and its energy register (kWh, 3 decimals);
# setseed() before it makes the numbers the same on every run.
_GENERATE = """
WITH m AS (SELECT 5 + 45 * random() AS base, 1000 + 99000 * random() AS e0),
g AS (
  SELECT n, m.e0, m.base * (0.6 + 0.4 * sin(pi() * ((n / 60) % 24) / 24)) + (2 * random() - 1) AS kw
  FROM m, generate_series(0, $4::int - 1) n
),
e AS (
  SELECT n, kw, round(1000 * (e0 + sum(kw / 60) OVER (ORDER BY n ROWS UNBOUNDED PRECEDING))) / 1000 AS kwh
  FROM g
)
INSERT INTO readings (point_id, ts, value, quality)
SELECT v.point_id, $3::timestamptz + e.n * interval '1 minute', v.value, 0
FROM e CROSS JOIN LATERAL (VALUES ($1::bigint, e.kwh), ($2::bigint, e.kw)) v(point_id, value)
WHERE v.point_id IS NOT NULL
"""

# Every quarter of the points from their raw readings, as quarter_parts over the whole history: counts and
# values of the readings inside, and each interval between consecutive usable readings split over the
# quarters it overlaps (consumption pro rata of time, seconds covered, the longest interval).
_QUARTERS = """
WITH p AS (
  SELECT t.pid, t.cumulative, t.rollover,
    (SELECT extract(epoch FROM min(ts))::float8 FROM readings WHERE point_id = t.pid AND quality < 2) AS x0,
    (SELECT extract(epoch FROM max(ts))::float8 FROM readings WHERE point_id = t.pid AND quality < 2) AS x1
  FROM unnest($1::bigint[], $2::bool[], $3::float8[]) AS t(pid, cumulative, rollover)
),
r AS NOT MATERIALIZED (
  SELECT r.point_id, r.ts, r.value, r.quality, date_bin('15 minutes', r.ts, 'epoch') AS q
  FROM readings r WHERE r.point_id = ANY($1::bigint[])
),
rq AS (
  SELECT point_id, q, count(*) AS count, count(*) FILTER (WHERE quality > 0) AS flagged,
    count(*) FILTER (WHERE quality < 2) AS usable,
    coalesce(sum(value ORDER BY ts) FILTER (WHERE quality < 2), 0) AS vsum,
    min(value) FILTER (WHERE quality < 2) AS vmin, max(value) FILTER (WHERE quality < 2) AS vmax,
    (array_agg(value ORDER BY ts) FILTER (WHERE quality < 2))[1] AS first_value,
    (array_agg(value ORDER BY ts DESC) FILTER (WHERE quality < 2))[1] AS last_value
  FROM r GROUP BY point_id, q
),
u AS (
  SELECT point_id, ts, value, lag(ts) OVER w AS prev_ts, lag(value) OVER w AS prev
  FROM r WHERE quality < 2 WINDOW w AS (PARTITION BY point_id ORDER BY ts)
),
iv AS (
  SELECT u.point_id, date_part('epoch', u.prev_ts) AS a, date_part('epoch', u.ts) AS b,
    CASE WHEN u.value >= u.prev THEN u.value - u.prev
         WHEN p.rollover IS NOT NULL AND 0 <= p.rollover - u.prev + u.value
              AND p.rollover - u.prev + u.value <= p.rollover / 2 THEN p.rollover - u.prev + u.value
         WHEN u.value < u.prev * 0.5 THEN greatest(u.value, 0.0)
         ELSE 0.0 END AS delta,
    date_bin('15 minutes', u.prev_ts, 'epoch') AS k0,
    date_bin('15 minutes', u.ts - interval '1 microsecond', 'epoch') AS k1
  FROM u JOIN p ON p.pid = u.point_id WHERE u.prev_ts IS NOT NULL
),
iq AS (  -- most intervals lie inside one quarter: only longer ones go through generate_series
  SELECT point_id, x.q, a, b - a AS length, delta,
    least(b, date_part('epoch', x.q) + 900) - greatest(a, date_part('epoch', x.q)) AS overlap
  FROM iv CROSS JOIN LATERAL (
    SELECT iv.k0 WHERE iv.k0 = iv.k1
    UNION ALL
    SELECT generate_series(iv.k0, iv.k1, interval '15 minutes') WHERE iv.k0 < iv.k1
  ) x(q)
),
ia AS (
  SELECT iq.point_id, iq.q,
    CASE WHEN p.cumulative THEN sum(delta * (overlap / length) ORDER BY a) END AS consumption,
    sum(overlap ORDER BY a) AS span_seconds, max(length) AS longest
  FROM iq JOIN p ON p.pid = iq.point_id WHERE overlap > 0 GROUP BY iq.point_id, iq.q, p.cumulative
)
INSERT INTO energy_quarters (point_id, q, whole, count, flagged, usable, vsum, vmin, vmax, first_value,
  last_value, consumption, span_seconds, longest)
SELECT k.point_id, k.q,
  p.cumulative AND p.x0 IS NOT NULL AND p.x0 <= date_part('epoch', k.q)
    AND date_part('epoch', k.q) + 900 <= p.x1,
  coalesce(rq.count, 0), coalesce(rq.flagged, 0), coalesce(rq.usable, 0), coalesce(rq.vsum, 0),
  rq.vmin, rq.vmax, rq.first_value, rq.last_value, ia.consumption,
  coalesce(ia.span_seconds, 0), coalesce(ia.longest, 0)
FROM rq FULL JOIN ia USING (point_id, q)
CROSS JOIN LATERAL (SELECT coalesce(rq.point_id, ia.point_id) AS point_id, coalesce(rq.q, ia.q) AS q) k
JOIN p ON p.pid = k.point_id
"""

# the quarters from a point's tail_start on, which the worker's fold does not store (no query reads them)
_UNREAD = """
DELETE FROM energy_quarters e USING unnest($1::bigint[], $2::timestamptz[]) AS t(pid, tail)
WHERE e.point_id = t.pid AND e.q >= t.tail
"""

_SPANS = """
SELECT point_id, min(ts), max(ts), max(ts) FILTER (WHERE quality < 2)
FROM readings WHERE point_id = ANY($1::bigint[]) GROUP BY point_id
"""

_STATE = """
INSERT INTO energy_summary_state (point_id, folded_from, tail_start, last_usable, newest)
SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::timestamptz[], $4::timestamptz[], $5::timestamptz[])
"""


async def generate_meter(
    conn, energy_id: int, power_id: int | None, start: datetime, minutes: int, seed: int
):
    """Insert one meter's one-minute readings (energy register, and power unless power_id is None)."""
    await conn.execute("SELECT setseed($1)", (seed % 10_000) / 10_000)
    await conn.execute(_GENERATE, energy_id, power_id, start, minutes)


async def bulk_summary(conn, infos) -> None:
    """Build the summary of points with no summary yet from all their readings (infos: point -> PointInfo).

    Leaves the same quarter rows, day rows and state as rebuild_summary (the worker's fold) of the points.
    """
    pids = sorted(infos)
    # Ordered aggregates run unparallelled anyway; JIT compiling this statement cost more than running it.
    await conn.execute("SET max_parallel_workers_per_gather = 0; SET jit = off")
    await conn.execute(
        _QUARTERS,
        pids,
        [infos[p].cumulative for p in pids],
        [infos[p].rollover for p in pids],
    )
    ranges, states = [], []
    for pid, first, newest, last_usable in await conn.fetch(_SPANS, pids):
        lo, hi = quarter_floor(first), quarter_floor(newest) + QUARTER
        tail = quarter_floor(last_usable) if last_usable is not None else hi
        ranges.append((pid, lo, hi))
        states.append((pid, lo, max(lo, tail), last_usable, newest))
    if not states:
        return
    await sum_days(conn, ranges, infos, {state[0]: state[2] for state in states})
    await conn.execute(_STATE, *map(list, zip(*states, strict=True)))
    await conn.execute(_UNREAD, [state[0] for state in states], [state[2] for state in states])


async def generate_readings(
    url: str, fleet, start: datetime, minutes: int, power: bool, workers: int = 2
) -> float:
    """Every meter's readings generated in PostgreSQL on `workers` connections, then the key; returns seconds."""
    began = time.perf_counter()
    conns = [await asyncpg.connect(url) for _ in range(workers)]
    try:
        # One index build after the load is ~3x faster than maintaining the key row by row.
        await conns[0].execute("ALTER TABLE readings DROP CONSTRAINT readings_pkey")
        todo = list(fleet.points.items())

        async def _worker(conn) -> None:
            while todo:
                meter_id, (energy_id, power_id) = todo.pop(0)
                await generate_meter(conn, energy_id, power_id if power else None, start, minutes, meter_id)

        await asyncio.gather(*(_worker(c) for c in conns))
        await conns[0].execute("ALTER TABLE readings ADD PRIMARY KEY (point_id, ts)")
        await conns[0].execute("ANALYZE readings")
        return time.perf_counter() - began
    finally:
        for conn in conns:
            await conn.close()


async def build_summary_bulk(
    url: str, sessions, points: list[int], workers: int = 2, batch: int = 5
) -> float:
    """The summary of the points built set-based, `batch` points per statement on `workers` connections."""
    async with session_scope(sessions) as session:
        infos = await point_infos(session, points)
    chunks = [points[n : n + batch] for n in range(0, len(points), batch)]
    began = time.perf_counter()
    conns = [await asyncpg.connect(url) for _ in range(workers)]
    try:

        async def _worker(conn) -> None:
            while chunks:
                chunk = chunks.pop(0)
                async with conn.transaction():
                    await bulk_summary(conn, {p: infos[p] for p in chunk})

        await asyncio.gather(*(_worker(c) for c in conns))
        await conns[0].execute("ANALYZE energy_quarters; ANALYZE energy_days")
        return time.perf_counter() - began
    finally:
        for conn in conns:
            await conn.close()
