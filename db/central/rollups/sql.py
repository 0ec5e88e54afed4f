"""PostgreSQL statements that rebuild rollup buckets from raw readings (same rules as db/energy/)."""

from db.central.storage.lookups import usable_before


def register_delta(rollover: str) -> str:
    """SQL: consumption over one interval from prev_v to value (NULL without prev_v); rollover: its column."""
    return f"""CASE
      WHEN prev_v IS NULL THEN NULL
      WHEN value >= prev_v THEN value - prev_v
      WHEN {rollover} - prev_v + value BETWEEN 0 AND {rollover} / 2 THEN {rollover} - prev_v + value
      WHEN value < prev_v * 0.5 THEN greatest(value, 0)
      ELSE 0
    END"""


def register_wrapped(rollover: str) -> str:
    """SQL: the register dropped over the interval and it counts as a rollover or a reset (not jitter)."""
    return f"""value < prev_v AND (
      coalesce({rollover} - prev_v + value BETWEEN 0 AND {rollover} / 2, false) OR value < prev_v * 0.5
    )"""


# One bucket b (point_id, s, e, cut, cumulative, max_gap seconds, rollover) aggregated from its raw rows
# before cut plus the last usable reading before it; lag() runs over usable (quality < 2) rows only.
_BUCKET_AGGREGATE = f"""
SELECT
  count(*) FILTER (WHERE in_b) AS count,
  count(*) FILTER (WHERE in_b AND quality = 0) AS good_count,
  min(value) FILTER (WHERE in_b) AS min_value,
  max(value) FILTER (WHERE in_b) AS max_value,
  coalesce(sum(value) FILTER (WHERE in_b), 0) AS sum_value,
  min(ts) FILTER (WHERE in_b) AS first_ts,
  (array_agg(value ORDER BY ts) FILTER (WHERE in_b))[1] AS first_value,
  max(ts) FILTER (WHERE in_b) AS last_ts,
  (array_agg(value ORDER BY ts DESC) FILTER (WHERE in_b))[1] AS last_value,
  CASE WHEN b.cumulative THEN sum(delta) FILTER (WHERE ends_in_b) END AS consumption,
  CASE WHEN b.cumulative THEN count(*) FILTER (WHERE ends_in_b AND wrapped) ELSE 0 END AS reset_count,
  count(*) FILTER (WHERE ends_in_b AND ts - prev_ts > make_interval(secs => b.max_gap)) AS gap_count
FROM (
  SELECT ts, value, quality, prev_ts,
    ts >= b.s AND ts < b.e AS in_b,
    quality < 2 AND prev_v IS NOT NULL AND ts > b.s AND ts <= b.e AS ends_in_b,
    {register_delta("b.rollover")} AS delta,
    {register_wrapped("b.rollover")} AS wrapped
  FROM (
    SELECT ts, value, quality, lag(value) OVER w AS prev_v, lag(ts) OVER w AS prev_ts
    FROM (
      SELECT ts, value, quality FROM readings
       WHERE point_id = b.point_id AND ts >= b.s AND ts <= b.e AND ts < b.cut
      UNION ALL
      (SELECT ts, value, quality FROM readings
        WHERE point_id = b.point_id AND ts = {usable_before("b.point_id", "b.s")})
    ) raw
    WINDOW w AS (PARTITION BY quality < 2 ORDER BY ts)
  ) lagged
) x
"""

# The last reading folded into a point's rollups: the newest hourly row that counts readings holds it.
LAST_FOLDED = """
SELECT last_ts FROM rollup_hourly WHERE point_id = {point} AND count > 0 ORDER BY bucket DESC LIMIT 1
"""

STAT_COLUMNS = (
    "count, good_count, min_value, max_value, sum_value, first_ts, first_value, last_ts, last_value, "
    "consumption, reset_count, gap_count"
)

_UPDATE_STATS = ", ".join(f"{c} = EXCLUDED.{c}" for c in STAT_COLUMNS.split(", "))

_H_COLUMNS = (
    "h.count, h.good_count, h.min_value, h.max_value, h.sum_value, h.first_ts, h.first_value, "
    "h.last_ts, h.last_value, h.consumption, h.reset_count, h.gap_count"
)

_DAY_AGGREGATES = """sum(count), sum(good_count), min(min_value), max(max_value), sum(sum_value),
    min(first_ts), (array_agg(first_value ORDER BY bucket) FILTER (WHERE count > 0))[1],
    max(last_ts), (array_agg(last_value ORDER BY bucket DESC) FILTER (WHERE count > 0))[1],
    sum(consumption), sum(reset_count), sum(gap_count)"""

_KEEP = "WHERE a.count > 0 OR a.consumption IS NOT NULL OR a.gap_count > 0"

# Whole hours [lo, hi) of each point in one pass: the key index yields each point's rows in time order, so
# the window needs no sort; deltas run over usable rows only and go to the hour holding (end - 1 µs).
# Returns the hours written for points of zones with off-hour midnights (their days come from raw rows).
HOURLY_FROM_RAW = f"""
WITH t0 AS (
  SELECT * FROM unnest(CAST(:point_ids AS bigint[]), CAST(:los AS timestamptz[]), CAST(:his AS timestamptz[]),
                       CAST(:tmaxs AS timestamptz[]), CAST(:cumulative AS boolean[]),
                       CAST(:max_gaps AS float8[]), CAST(:rollovers AS float8[]), CAST(:zones AS text[]),
                       CAST(:aligned AS boolean[]))
       AS t(point_id, lo, hi, tmax, cumulative, max_gap, rollover, tz, aligned)
),
t1 AS (  -- the next usable reading after the touched range has a new delta: its hour is rebuilt too
  SELECT t0.point_id, t0.lo, t0.cumulative, t0.max_gap, t0.rollover, t0.tz, t0.aligned,
    greatest(t0.hi, date_trunc('hour', n.ts - interval '1 microsecond', 'UTC') + interval '1 hour') AS hi
  FROM t0 LEFT JOIN LATERAL (
    SELECT ts FROM readings WHERE point_id = t0.point_id AND ts > t0.tmax AND quality < 2 ORDER BY ts LIMIT 1
  ) n ON true
),
-- A delta ending exactly at hi goes to the last rebuilt hour but its reading to the next, unrebuilt one:
-- it is kept only when that reading was folded in before (at or before the last folded reading), so
-- the rollups never hold the delta of a reading they do not count (db/central/rollups/append.py relies on it).
t AS (
  SELECT t1.*, greatest(t1.hi, f.last_ts + interval '1 microsecond') AS cut
  FROM t1 LEFT JOIN LATERAL ({LAST_FOLDED.format(point="t1.point_id")}) f ON true
),
vals AS (
  SELECT t.point_id, date_trunc('hour', r.ts, 'UTC') AS bucket,
    count(*) AS count, count(*) FILTER (WHERE r.quality = 0) AS good_count,
    min(r.value) AS min_value, max(r.value) AS max_value, sum(r.value) AS sum_value,
    min(r.ts) AS first_ts, (array_agg(r.value ORDER BY r.ts))[1] AS first_value,
    max(r.ts) AS last_ts, (array_agg(r.value ORDER BY r.ts DESC))[1] AS last_value
  FROM t JOIN readings r ON r.point_id = t.point_id AND r.ts >= t.lo AND r.ts < t.hi
  GROUP BY 1, 2
),
steps AS (
  SELECT t.point_id, t.lo, t.cut, t.cumulative, t.max_gap, t.rollover, s.ts, s.value, s.prev_v, s.prev_ts
  FROM t CROSS JOIN LATERAL (
    SELECT ts, value, lag(value) OVER (ORDER BY ts) AS prev_v, lag(ts) OVER (ORDER BY ts) AS prev_ts
    FROM (
      (SELECT ts, value FROM readings WHERE point_id = t.point_id AND ts = {usable_before("t.point_id", "t.lo")})
      UNION ALL
      (SELECT ts, value FROM readings
        WHERE point_id = t.point_id AND ts >= t.lo AND ts <= t.hi AND quality < 2 ORDER BY ts)
    ) usable
  ) s
),
cons AS (
  SELECT point_id, date_trunc('hour', ts - interval '1 microsecond', 'UTC') AS bucket,
    CASE WHEN bool_or(cumulative) THEN sum({register_delta("rollover")}) END AS consumption,
    CASE WHEN bool_or(cumulative) THEN count(*) FILTER (WHERE {register_wrapped("rollover")})
    ELSE 0 END AS reset_count,
    count(*) FILTER (WHERE ts - prev_ts > make_interval(secs => max_gap)) AS gap_count
  FROM steps WHERE prev_v IS NOT NULL AND ts > lo AND ts < cut
  GROUP BY 1, 2
),
new_h AS (
  INSERT INTO rollup_hourly (point_id, bucket, {STAT_COLUMNS})
  SELECT coalesce(v.point_id, c.point_id), coalesce(v.bucket, c.bucket),
    coalesce(v.count, 0), coalesce(v.good_count, 0), v.min_value, v.max_value, coalesce(v.sum_value, 0),
    v.first_ts, v.first_value, v.last_ts, v.last_value,
    c.consumption, coalesce(c.reset_count, 0), coalesce(c.gap_count, 0)
  FROM vals v FULL JOIN cons c ON c.point_id = v.point_id AND c.bucket = v.bucket
  WHERE v.count > 0 OR c.consumption IS NOT NULL OR c.gap_count > 0
  ORDER BY 1, 2  -- one lock order for concurrent uploads of the same points
  ON CONFLICT (point_id, bucket) DO UPDATE SET {_UPDATE_STATS}
  RETURNING point_id, bucket, {STAT_COLUMNS}
),
-- Days of zones whose midnights are whole UTC hours are summed from their hours in the same statement:
-- the table as it was (this statement's snapshot) for the hours not rewritten, plus the rewritten ones.
days AS (
  SELECT DISTINCT n.point_id, d.day,
    d.day::timestamp AT TIME ZONE t.tz AS s, (d.day + 1)::timestamp AT TIME ZONE t.tz AS e
  FROM new_h n JOIN t ON t.point_id = n.point_id AND t.aligned
  CROSS JOIN LATERAL (SELECT (n.bucket AT TIME ZONE t.tz)::date AS day) d
),
hours AS (
  SELECT d.point_id, d.day, d.s, d.e, h.bucket, {_H_COLUMNS}
  FROM days d JOIN rollup_hourly h ON h.point_id = d.point_id AND h.bucket >= d.s AND h.bucket < d.e
  WHERE NOT EXISTS (SELECT 1 FROM new_h n WHERE n.point_id = h.point_id AND n.bucket = h.bucket)
  UNION ALL
  SELECT d.point_id, d.day, d.s, d.e, h.bucket, {_H_COLUMNS}
  FROM days d JOIN new_h h ON h.point_id = d.point_id AND h.bucket >= d.s AND h.bucket < d.e
),
new_d AS (
  INSERT INTO rollup_daily (point_id, day, bucket, bucket_end, {STAT_COLUMNS})
  SELECT point_id, day, s, e, {_DAY_AGGREGATES}
  FROM hours GROUP BY point_id, day, s, e
  ORDER BY 1, 2
  ON CONFLICT (point_id, day) DO UPDATE SET bucket = EXCLUDED.bucket, bucket_end = EXCLUDED.bucket_end,
    {_UPDATE_STATS}
)
SELECT n.point_id, n.bucket, t.cut FROM new_h n JOIN t ON t.point_id = n.point_id AND NOT t.aligned
"""

DAILY_FROM_RAW = f"""
WITH b AS (
  SELECT * FROM unnest(CAST(:point_ids AS bigint[]), CAST(:days AS date[]), CAST(:starts AS timestamptz[]),
                       CAST(:ends AS timestamptz[]), CAST(:cuts AS timestamptz[]), CAST(:cumulative AS boolean[]),
                       CAST(:max_gaps AS float8[]), CAST(:rollovers AS float8[]))
       AS t(point_id, day, s, e, cut, cumulative, max_gap, rollover)
)
INSERT INTO rollup_daily (point_id, day, bucket, bucket_end, {STAT_COLUMNS})
SELECT b.point_id, b.day, b.s, b.e, a.* FROM b CROSS JOIN LATERAL ({_BUCKET_AGGREGATE}) a
{_KEEP}
ON CONFLICT (point_id, day) DO UPDATE SET bucket = EXCLUDED.bucket, bucket_end = EXCLUDED.bucket_end,
  {_UPDATE_STATS}
"""
