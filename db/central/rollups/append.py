"""Fold readings newer than everything already folded into the rollups, without re-reading folded rows.

A point's rollups hold exactly its readings up to the last one folded (the last reading of its newest
hourly row) and the deltas ending at those readings; a late reading still queued is the one exception, and
its own rebuild follows. When every queued reading of a point is newer than that last reading, the new
readings and their deltas are aggregated alone and added to the hourly and daily rows they fall in (a point
without rollups appends everything). Other points (late or out-of-order readings) are left to the rebuild
from raw rows (db/central/rollups/refresh.py), which keeps the invariant. PostgreSQL only.
"""

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from db.central.rollups.refresh import HOUR, PointInfo, point_infos, refresh_rollups
from db.central.rollups.sql import STAT_COLUMNS, register_delta, register_wrapped
from db.central.storage.lookups import usable_before
from db.energy import hour_floor

ORIGIN = "timestamptz '2000-01-01 00:00:00+00'"  # date_bin() origin: UTC hours, no zone lookup per row
TICK = "interval '1 microsecond'"

# Increments of parts (one point, one UTC hour, one local day each) combined per hour or per day.
_COMBINE = """sum(count), sum(good_count), min(min_value), max(max_value), sum(sum_value),
    min(first_ts), (array_agg(first_value ORDER BY first_ts) FILTER (WHERE count > 0))[1],
    max(last_ts), (array_agg(last_value ORDER BY last_ts DESC) FILTER (WHERE count > 0))[1],
    sum(consumption), sum(reset_count), sum(gap_count)"""


def add_to(table: str) -> str:
    """ON CONFLICT assignments adding an increment of later readings (EXCLUDED) to a stored row."""
    return f"""count = {table}.count + EXCLUDED.count, good_count = {table}.good_count + EXCLUDED.good_count,
    min_value = least({table}.min_value, EXCLUDED.min_value),
    max_value = greatest({table}.max_value, EXCLUDED.max_value),
    sum_value = {table}.sum_value + EXCLUDED.sum_value,
    first_ts = coalesce({table}.first_ts, EXCLUDED.first_ts),
    first_value = CASE WHEN {table}.first_ts IS NULL THEN EXCLUDED.first_value ELSE {table}.first_value END,
    last_ts = coalesce(EXCLUDED.last_ts, {table}.last_ts),
    last_value = CASE WHEN EXCLUDED.last_ts IS NULL THEN {table}.last_value ELSE EXCLUDED.last_value END,
    consumption = coalesce({table}.consumption + EXCLUDED.consumption, {table}.consumption,
                           EXCLUDED.consumption),
    reset_count = {table}.reset_count + EXCLUDED.reset_count,
    gap_count = {table}.gap_count + EXCLUDED.gap_count"""


# One pass over each point's new readings, in time order: every reading carries the usable reading before
# it (lag() over all rows, looked up when that row is bad), and groups of (UTC hour, local day) aggregate
# readings and deltas together. A delta belongs to the hour and day of (end - 1 µs): that differs from the
# reading's own only for the first reading of a group, exactly on the hour or at local midnight, whose delta
# goes to a part of its own. Before the first local midnight after the last folded reading (m1) the day is
# that reading's day d1, so only rows past a midnight pay for a zone conversion.
APPEND_ROLLUPS = f"""
WITH t0 AS (
  SELECT * FROM unnest(CAST(:point_ids AS bigint[]), CAST(:tmins AS timestamptz[]),
                       CAST(:tmaxs AS timestamptz[]), CAST(:cumulative AS boolean[]),
                       CAST(:max_gaps AS float8[]), CAST(:rollovers AS float8[]), CAST(:zones AS text[]))
       AS t(point_id, tmin, tmax, cumulative, max_gap, rollover, tz)
),
t AS (  -- a point without rollups has folded nothing: everything up to tmax is appended
  SELECT t0.*, h.last_ts, coalesce(h.last_ts, '-infinity') AS l,
    h.point_id IS NULL OR (h.count > 0 AND t0.tmin > h.last_ts) AS append
  FROM t0 LEFT JOIN LATERAL (
    SELECT point_id, count, last_ts FROM rollup_hourly WHERE point_id = t0.point_id ORDER BY bucket DESC LIMIT 1
  ) h ON true
),
a AS (
  SELECT t.point_id, t.l, t.tmax, t.cumulative, make_interval(secs => t.max_gap) AS max_gap, t.rollover, t.tz,
    p.ts AS p_ts, p.value AS p_v,
    (t.l AT TIME ZONE t.tz)::date AS d1, ((t.l AT TIME ZONE t.tz)::date + 1)::timestamp AT TIME ZONE t.tz AS m1
  FROM t LEFT JOIN LATERAL (
    SELECT ts, value FROM readings WHERE point_id = t.point_id AND ts = {usable_before("t.point_id", f"t.l + {TICK}")}
  ) p ON true
  WHERE t.append
),
g AS (
  SELECT a.point_id, x.*
  FROM a CROSS JOIN LATERAL (
    SELECT bucket, day,
      count(*) AS count, count(*) FILTER (WHERE quality = 0) AS good_count,
      min(value) AS min_value, max(value) AS max_value, sum(value) AS sum_value,
      min(ts) AS first_ts, min(value) FILTER (WHERE opens) AS first_value,
      max(ts) AS last_ts, min(value) FILTER (WHERE closes) AS last_value,
      CASE WHEN a.cumulative THEN sum(delta) FILTER (WHERE NOT edge) END AS consumption,
      CASE WHEN a.cumulative THEN count(*) FILTER (WHERE wrapped AND NOT edge) ELSE 0 END AS reset_count,
      count(*) FILTER (WHERE gap AND NOT edge) AS gap_count,
      min(date_bin('1 hour', ts - {TICK}, {ORIGIN})) FILTER (WHERE edge) AS edge_bucket,
      min(edge_day) FILTER (WHERE edge) AS edge_day,
      CASE WHEN a.cumulative THEN sum(delta) FILTER (WHERE edge) END AS edge_consumption,
      CASE WHEN a.cumulative THEN count(*) FILTER (WHERE wrapped AND edge) ELSE 0 END AS edge_reset_count,
      count(*) FILTER (WHERE gap AND edge) AS edge_gap_count
    FROM (
      SELECT ts, value, quality, bucket, day, edge_day, opens, closes,
        prev_ts IS NOT NULL AND opens AND (ts = bucket OR edge_day <> day) AS edge,
        {register_delta("a.rollover")} AS delta,
        {register_wrapped("a.rollover")} AS wrapped,
        ts - prev_ts > a.max_gap AS gap
      FROM (
        SELECT ts, value, quality, bucket, day, opens, closes,
          CASE WHEN ts <= a.m1 THEN a.d1 ELSE ((ts - {TICK}) AT TIME ZONE a.tz)::date END AS edge_day,
          CASE
            WHEN quality >= 2 THEN NULL
            WHEN lag_quality IS NULL THEN a.p_ts
            WHEN lag_quality < 2 THEN lag_ts
            ELSE {usable_before("a.point_id", "o.ts")}
          END AS prev_ts,
          CASE
            WHEN quality >= 2 THEN NULL
            WHEN lag_quality IS NULL THEN a.p_v
            WHEN lag_quality < 2 THEN lag_value
            ELSE (SELECT value FROM readings WHERE point_id = a.point_id AND ts = {usable_before("a.point_id", "o.ts")})
          END AS prev_v
        FROM (
          SELECT ts, value, quality, bucket, day,
            lag(bucket) OVER w IS DISTINCT FROM bucket OR lag(day) OVER w IS DISTINCT FROM day AS opens,
            lead(bucket) OVER w IS DISTINCT FROM bucket OR lead(day) OVER w IS DISTINCT FROM day AS closes,
            lag(quality) OVER w AS lag_quality, lag(value) OVER w AS lag_value, lag(ts) OVER w AS lag_ts
          FROM (
            SELECT ts, value, quality, date_bin('1 hour', ts, {ORIGIN}) AS bucket,
              CASE WHEN ts < a.m1 THEN a.d1 ELSE (ts AT TIME ZONE a.tz)::date END AS day
            FROM readings WHERE point_id = a.point_id AND ts > a.l AND ts <= a.tmax
          ) keyed
          WINDOW w AS (ORDER BY ts)
        ) o
        OFFSET 0  -- computed once per row, not inlined into every expression that uses prev_v
      ) stepped
    ) steps
    GROUP BY bucket, day
  ) x
),
parts AS (
  SELECT point_id, bucket, day, count, good_count, min_value, max_value, sum_value, first_ts, first_value,
    last_ts, last_value, consumption, reset_count, gap_count
  FROM g
  UNION ALL
  SELECT point_id, edge_bucket, edge_day, 0, 0, NULL, NULL, 0, NULL, NULL, NULL, NULL,
    edge_consumption, edge_reset_count, edge_gap_count
  FROM g WHERE edge_bucket IS NOT NULL AND (edge_consumption IS NOT NULL OR edge_gap_count > 0)
),
new_h AS (
  INSERT INTO rollup_hourly AS h (point_id, bucket, {STAT_COLUMNS})
  SELECT point_id, bucket, {_COMBINE}
  FROM parts GROUP BY point_id, bucket
  ORDER BY 1, 2  -- one lock order with the rebuilds
  ON CONFLICT (point_id, bucket) DO UPDATE SET {add_to("h")}
),
new_d AS (
  INSERT INTO rollup_daily AS d (point_id, day, bucket, bucket_end, {STAT_COLUMNS})
  SELECT p.point_id, p.day, p.day::timestamp AT TIME ZONE a.tz, (p.day + 1)::timestamp AT TIME ZONE a.tz,
    {_COMBINE}
  FROM parts p JOIN a ON a.point_id = p.point_id
  GROUP BY p.point_id, p.day, a.tz
  ORDER BY 1, 2
  ON CONFLICT (point_id, day) DO UPDATE SET {add_to("d")}
)
SELECT point_id, last_ts FROM t WHERE NOT append
"""


async def fold_rounds(session: AsyncSession, rounds: list[dict[int, tuple[datetime, datetime]]]) -> None:
    """Fold queued ranges (round k: each point's k-th range, in time order) into the rollups.

    Points whose readings all follow their last folded one are appended. Others (late or out-of-order
    readings, e.g. concurrent uploads committing out of order) are rebuilt from raw rows; when their
    readings reach past the hour of the last folded one, only up to that reading, and the rest is appended.
    """
    spans: dict[int, tuple[datetime, datetime]] = {}
    for touched in rounds:
        for pid, (lo, hi) in touched.items():
            spans[pid] = (spans[pid][0], hi) if pid in spans else (lo, hi)
    infos = await point_infos(session, sorted(spans))
    left = await append_rollups(session, spans, infos)
    if not left:
        return
    # appending after the rebuild pays when the new readings reach past the last folded one's hour
    ahead = {
        p: last for p, last in left.items() if last is not None and spans[p][1] >= hour_floor(last) + HOUR
    }
    for touched in rounds:
        await refresh_rollups(
            session,
            {
                pid: (lo, min(hi, ahead[pid])) if pid in ahead else (lo, hi)
                for pid, (lo, hi) in touched.items()
                if pid in left and (pid not in ahead or lo <= ahead[pid])
            },
        )
    if ahead:
        rest = {pid: (spans[pid][1],) * 2 for pid in ahead}
        unfolded = await append_rollups(session, rest, infos)
        stale = {pid: spans[pid] for pid, last in unfolded.items() if last is None or last < spans[pid][1]}
        await refresh_rollups(session, stale)


async def append_rollups(
    session: AsyncSession, spans: Mapping[int, tuple[datetime, datetime]], infos: Mapping[int, PointInfo]
) -> dict[int, datetime | None]:
    """Append each point's readings after its last folded one where all of [first, last] follows it.

    spans maps a point to the first and last time of its queued readings; returns the other points with
    their last folded reading (None when their newest hourly row counts no reading).
    """
    pids = list(spans)
    # jit: see db/central/rollups/refresh.py _refresh_pg. Bitmap scans: a point's rows come unordered and are sorted again
    # (the estimate for a lateral's range is a few rows; it is a round's worth, in time order)
    await session.execute(
        text("SELECT set_config('jit', 'off', true), set_config('enable_bitmapscan', 'off', true)")
    )
    rows = await session.execute(
        text(APPEND_ROLLUPS),
        {
            "point_ids": pids,
            "tmins": [spans[p][0] for p in pids],
            "tmaxs": [spans[p][1] for p in pids],
            "cumulative": [infos[p].cumulative for p in pids],
            "max_gaps": [infos[p].max_gap_seconds for p in pids],
            "rollovers": [infos[p].rollover for p in pids],
            "zones": [infos[p].timezone for p in pids],
        },
    )
    return dict(rows.all())
