"""The first step of energy pages in one statement, for one point or all points of a site (PostgreSQL).

Per point: the summary state, the meter's interval (the middle spacing(s) of its first readings from the
page's start), the stored days/quarters summary_parts would read and the raw windows raw_parts would read
first (the readings before the summary and from tail_start on). Stored rows that lie in one bucket, in a row,
and that summary_parts will certainly take as they are (over, no interval longer than the gap limit) come
back already summed per run, in time order, as one day-like row (a month is then one row where it was
thirty days and a few dozen quarters); the others come one by one, and summary_parts checks every row as
before, so a run it would not take is read raw (exact, only slower).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from db.central.energy_read import INTERVAL_SAMPLE, MAX_WINDOW, SummaryState
from db.central.storage.lookups import window_rows
from db.energy import GAP_FACTOR, Sample, local_day, local_day_bounds
from db.engine import driver_connection

# Runs are summed only below the gap limit by this much (seconds): a row nearer to it comes alone and is
# judged by summary_parts with the limit computed in Python.
GAP_MARGIN = 1e-3

# $1 points, $2/$3 the page's [lo, hi), $4 whether each point's interval is sampled (else configured),
# $5 the local day starts from lo's day to the day after hi's, $6 whether to read days, $7 where the
# interval sample starts, $8 each point's gap limit in seconds when configured, $9 each point's kind
# (cumulative), $10 the buckets' starts (NULL: nothing is summed), $11 now, $12 whether days are summed too
# (month buckets; a day bucket holds one stored day or quarters only), $13 whether any point is priced (a
# day's consumption per hour is read only then).
_SNAPSHOT = f"""
WITH p AS (
  SELECT * FROM unnest($1::bigint[], $4::bool[], $8::float8[], $9::bool[]) AS p(pid, sampled, gap, cumulative)
),
s AS (
  SELECT p.pid, st.folded_from, st.tail_start, EXISTS (
    SELECT 1 FROM rollup_dirty d, json_array_elements(d.spans) x
    WHERE (x->>0)::bigint <= coalesce((extract(epoch FROM st.last_usable) * 1000000)::bigint,
                                      9223372036854775807)
      AND EXISTS (SELECT 1 FROM json_array_elements_text(x->2) e WHERE e::bigint = st.point_id)
  ) AS stale
  FROM p LEFT JOIN energy_summary_state st ON st.point_id = p.pid
),
f AS (
  SELECT p.pid, r.ts FROM p CROSS JOIN LATERAL (
    SELECT ts FROM readings WHERE point_id = p.pid AND ts >= $7 AND p.sampled ORDER BY ts LIMIT {INTERVAL_SAMPLE}
  ) r
),
sp AS (SELECT pid, ts - lag(ts) OVER (PARTITION BY pid ORDER BY ts) AS d FROM f),
o AS (
  SELECT pid, d, row_number() OVER (PARTITION BY pid ORDER BY d) - 1 AS i, count(*) OVER (PARTITION BY pid) AS n
  FROM sp WHERE d IS NOT NULL
),
m AS (SELECT pid, array_agg(d ORDER BY i) AS mid FROM o WHERE i = n / 2 OR i = (n - 1) / 2 GROUP BY pid),
g AS (
  SELECT p.pid, p.cumulative, m.mid,
    coalesce(p.gap, 3 * (SELECT avg(extract(epoch FROM x)) FROM unnest(m.mid) x)::float8) - {GAP_MARGIN} AS gap
  FROM p LEFT JOIN m ON m.pid = p.pid
),
ab AS (
  SELECT pid, greatest($2::timestamptz, folded_from) AS a, least($3::timestamptz, tail_start) AS b
  FROM s WHERE folded_from IS NOT NULL AND NOT stale
),
dd AS (
  SELECT ab.pid, ab.a, ab.b, coalesce(x.d0, ab.a) AS d0, CASE WHEN x.d0 IS NULL THEN ab.a ELSE x.d1 END AS d1
  FROM ab LEFT JOIN LATERAL (
    SELECT min(t) FILTER (WHERE t >= ab.a) AS d0, max(t) FILTER (WHERE t <= ab.b) AS d1
    FROM unnest($5::timestamptz[]) t
  ) x ON x.d0 < x.d1
  WHERE ab.a < ab.b
),
spans AS (
  SELECT ab.pid, $2::timestamptz AS lo, coalesce(dd.a, $3::timestamptz) AS hi
  FROM ab LEFT JOIN dd ON dd.pid = ab.pid
  UNION ALL
  SELECT pid, b, $3::timestamptz FROM dd
),
w AS (
  SELECT spans.pid, q AS lo, least(spans.hi, q + interval '{int(MAX_WINDOW.total_seconds())} seconds') AS hi
  FROM spans CROSS JOIN LATERAL (SELECT date_bin('15 minutes', spans.lo, 'epoch') AS q) x
  WHERE spans.lo < spans.hi
),
st AS (  -- lateral scans: each range of a point is an index range of its own
  SELECT dd.pid, false AS quarter, e.bucket AS t0, e.bucket_end AS t1, e.count, e.flagged, e.usable, e.vsum,
    e.vmin, e.vmax, e.first_value, e.last_value, e.consumption, e.span_seconds, e.longest, false AS whole,
    e.peak, e.peak_at, CASE WHEN $13 THEN e.hours::text END AS hours
  FROM dd CROSS JOIN LATERAL (
    SELECT * FROM energy_days WHERE point_id = dd.pid AND bucket >= dd.d0 AND bucket_end <= dd.d1 AND $6
  ) e
  UNION ALL
  SELECT dd.pid, true, e.q, e.q + interval '15 minutes', e.count, e.flagged, e.usable, e.vsum, e.vmin, e.vmax,
    e.first_value, e.last_value, e.consumption, e.span_seconds, e.longest, e.whole, d.peak,
    CASE WHEN d.peak IS NOT NULL THEN e.q END, NULL
  FROM dd JOIN g ON g.pid = dd.pid CROSS JOIN LATERAL (
    SELECT * FROM energy_quarters WHERE point_id = dd.pid AND q >= dd.a AND q < dd.d0
    UNION ALL
    SELECT * FROM energy_quarters WHERE point_id = dd.pid AND q >= dd.d1 AND q < dd.b
  ) e
  CROSS JOIN LATERAL (  -- the quarter's demand, as energy_parts.set_peak (only summed runs use it)
    SELECT CASE WHEN g.cumulative THEN CASE WHEN e.whole THEN 4 * e.consumption END
                WHEN e.usable > 0 THEN e.vsum / e.usable END AS peak
  ) d
),
mk AS (  -- the rows that may be summed: quarters, and days when the buckets are months
  SELECT st.*, width_bucket(st.t0, $10::timestamptz[]) AS bi,
    coalesce(st.longest <= g.gap AND st.t1 <= $11, false) AS ok
  FROM st JOIN g ON g.pid = st.pid WHERE $10 IS NOT NULL AND (st.quarter OR $12)
),
rn AS (SELECT mk.*, count(*) FILTER (WHERE NOT ok) OVER (PARTITION BY pid ORDER BY t0) AS run FROM mk)
SELECT 0, s.pid, s.folded_from, s.tail_start, NULL::timestamptz, s.stale, NULL::bigint, NULL::bigint,
  NULL::bigint, NULL::float8, NULL::float8, NULL::float8, NULL::float8, NULL::float8, NULL::float8,
  NULL::float8, NULL::float8, NULL::float8, NULL::text, g.mid, NULL::int
FROM s JOIN g ON g.pid = s.pid
UNION ALL
SELECT CASE WHEN quarter THEN 2 ELSE 1 END, pid, t0, t1, peak_at, whole, count, flagged, usable, vsum, vmin,
  vmax, first_value, last_value, consumption, span_seconds, longest, peak, hours, NULL, NULL
FROM st WHERE NOT ($10 IS NOT NULL AND (quarter OR $12))
UNION ALL
SELECT CASE WHEN quarter THEN 2 ELSE 1 END, pid, t0, t1, peak_at, whole, count, flagged, usable, vsum, vmin,
  vmax, first_value, last_value, consumption, span_seconds, longest, peak, hours, NULL, NULL
FROM rn WHERE NOT ok
UNION ALL
SELECT 1, pid, min(t0), max(t1), (array_agg(peak_at ORDER BY peak DESC, t0) FILTER (WHERE peak IS NOT NULL))[1],
  false, sum(count), sum(flagged), sum(usable), sum(vsum ORDER BY t0), min(vmin), max(vmax),
  (array_agg(first_value ORDER BY t0) FILTER (WHERE usable > 0))[1],
  (array_agg(last_value ORDER BY t0 DESC) FILTER (WHERE usable > 0))[1],
  sum(consumption ORDER BY t0), sum(span_seconds ORDER BY t0), max(longest), max(peak), NULL, NULL, NULL
FROM rn WHERE ok GROUP BY pid, bi, run
UNION ALL
SELECT 3, w.pid, w.lo, w.hi, r.ts, NULL, NULL, NULL, NULL, r.value, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, r.quality
FROM w CROSS JOIN LATERAL ({window_rows("w.pid", "w.lo", "w.hi")}
) r
UNION ALL
SELECT 4, w.pid, w.lo, w.hi, (SELECT ts FROM readings WHERE point_id = w.pid AND ts >= w.hi ORDER BY ts LIMIT 1),
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM w
"""


# One point's step: the same reading with constants for the point, which PostgreSQL plans and runs 1-1.5 ms
# quicker than the statement above with a one-point list; summing CTEs only where they are used (planning
# them costs a day page ~1 ms). $1 point, $2/$3 [lo, hi), $4 readings sampled (0: a configured interval),
# $5 day starts, $6 whether to read days, $7 where the sample starts; then as _ONE / _ONE_SUMMED say.
_HEAD = f"""
WITH s AS (
  SELECT st.folded_from, st.tail_start, EXISTS (
    SELECT 1 FROM rollup_dirty d, json_array_elements(d.spans) x
    WHERE (x->>0)::bigint <= coalesce((extract(epoch FROM st.last_usable) * 1000000)::bigint,
                                      9223372036854775807)
      AND EXISTS (SELECT 1 FROM json_array_elements_text(x->2) p WHERE p::bigint = st.point_id)
  ) AS stale
  FROM (SELECT 1) one LEFT JOIN energy_summary_state st ON st.point_id = $1
),
f AS (SELECT ts FROM readings WHERE point_id = $1 AND ts >= $7 AND $4 > 0 ORDER BY ts LIMIT $4),
sp AS (SELECT ts - lag(ts) OVER (ORDER BY ts) AS d FROM f),
o AS (SELECT d, row_number() OVER (ORDER BY d) - 1 AS i, count(*) OVER () AS n FROM sp WHERE d IS NOT NULL),
ab AS (
  SELECT greatest($2::timestamptz, folded_from) AS a, least($3::timestamptz, tail_start) AS b
  FROM s WHERE folded_from IS NOT NULL AND NOT stale
),
dd AS (
  SELECT ab.a, ab.b, coalesce(x.d0, ab.a) AS d0, CASE WHEN x.d0 IS NULL THEN ab.a ELSE x.d1 END AS d1
  FROM ab LEFT JOIN LATERAL (
    SELECT min(t) FILTER (WHERE t >= ab.a) AS d0, max(t) FILTER (WHERE t <= ab.b) AS d1
    FROM unnest($5::timestamptz[]) t
  ) x ON x.d0 < x.d1
  WHERE ab.a < ab.b
),
spans AS (
  SELECT $2::timestamptz AS lo, coalesce((SELECT a FROM dd), $3::timestamptz) AS hi FROM ab
  UNION ALL
  SELECT b, $3::timestamptz FROM dd
),
w AS (
  SELECT q AS lo, least(spans.hi, q + interval '{int(MAX_WINDOW.total_seconds())} seconds') AS hi
  FROM spans CROSS JOIN LATERAL (SELECT date_bin('15 minutes', spans.lo, 'epoch') AS q) x
  WHERE spans.lo < spans.hi
)
"""
_SUMS = f"""
g AS (
  SELECT coalesce($8::float8, 3 * (SELECT avg(extract(epoch FROM d)) FROM o WHERE i = n / 2 OR i = (n - 1) / 2)
    ::float8) - {GAP_MARGIN} AS gap
),
st AS (
  SELECT false AS quarter, e.bucket AS t0, e.bucket_end AS t1, e.count, e.flagged, e.usable, e.vsum, e.vmin,
    e.vmax, e.first_value, e.last_value, e.consumption, e.span_seconds, e.longest, false AS whole, e.peak,
    e.peak_at
  FROM dd JOIN energy_days e ON e.point_id = $1 AND e.bucket >= dd.d0 AND e.bucket_end <= dd.d1 AND $6
  UNION ALL
  SELECT true, e.q, e.q + interval '15 minutes', e.count, e.flagged, e.usable, e.vsum, e.vmin, e.vmax,
    e.first_value, e.last_value, e.consumption, e.span_seconds, e.longest, e.whole, d.peak,
    CASE WHEN d.peak IS NOT NULL THEN e.q END
  FROM dd JOIN energy_quarters e ON e.point_id = $1
    AND (e.q >= dd.a AND e.q < dd.d0 OR e.q >= dd.d1 AND e.q < dd.b)
  CROSS JOIN LATERAL (  -- the quarter's demand, as energy_parts.set_peak
    SELECT CASE WHEN $10 THEN CASE WHEN e.whole THEN 4 * e.consumption END
                WHEN e.usable > 0 THEN e.vsum / e.usable END AS peak
  ) d
),
mk AS (
  SELECT st.*, width_bucket(st.t0, $9::timestamptz[]) AS bi,
    coalesce(st.longest <= g.gap AND st.t1 <= $11, false) AS ok
  FROM st, g
),
rn AS (SELECT mk.*, count(*) FILTER (WHERE NOT ok) OVER (ORDER BY t0) AS run FROM mk)
"""
_STATE_ROW = """
SELECT 0, s.folded_from, s.tail_start, NULL::timestamptz, s.stale, (SELECT count(*) FROM f)::int,
  NULL::int, NULL::int, NULL::float8, NULL::float8, NULL::float8, NULL::float8, NULL::float8, NULL::float8,
  NULL::float8, NULL::float8, NULL::float8, NULL::text,
  (SELECT array_agg(d ORDER BY i) FROM o WHERE i = n / 2 OR i = (n - 1) / 2), NULL::int
FROM s
"""
_STORED_ROWS = """
UNION ALL
SELECT 1, e.bucket, e.bucket_end, e.peak_at, false, e.count, e.flagged, e.usable, e.vsum, e.vmin, e.vmax,
  e.first_value, e.last_value, e.consumption, e.span_seconds, e.longest, e.peak,
  CASE WHEN $8 THEN e.hours::text END, NULL, NULL
FROM dd JOIN energy_days e ON e.point_id = $1 AND e.bucket >= dd.d0 AND e.bucket_end <= dd.d1 AND $6
UNION ALL
SELECT 2, e.q, e.q + interval '15 minutes', NULL, e.whole, e.count, e.flagged, e.usable, e.vsum, e.vmin,
  e.vmax, e.first_value, e.last_value, e.consumption, e.span_seconds, e.longest, NULL, NULL, NULL, NULL
FROM dd JOIN energy_quarters e ON e.point_id = $1
  AND (e.q >= dd.a AND e.q < dd.d0 OR e.q >= dd.d1 AND e.q < dd.b)
"""
_SUMMED = """
UNION ALL
SELECT CASE WHEN quarter THEN 2 ELSE 1 END, t0, t1, peak_at, whole, count, flagged, usable, vsum, vmin, vmax,
  first_value, last_value, consumption, span_seconds, longest, peak, NULL, NULL, NULL
FROM rn WHERE NOT ok
UNION ALL
SELECT 1, min(t0), max(t1), (array_agg(peak_at ORDER BY peak DESC, t0) FILTER (WHERE peak IS NOT NULL))[1],
  false, sum(count), sum(flagged), sum(usable), sum(vsum ORDER BY t0), min(vmin), max(vmax),
  (array_agg(first_value ORDER BY t0) FILTER (WHERE usable > 0))[1],
  (array_agg(last_value ORDER BY t0 DESC) FILTER (WHERE usable > 0))[1],
  sum(consumption ORDER BY t0), sum(span_seconds ORDER BY t0), max(longest), max(peak), NULL, NULL, NULL
FROM rn WHERE ok GROUP BY bi, run
"""
_RAW = f"""
UNION ALL
SELECT 3, w.lo, w.hi, r.ts, NULL, NULL, NULL, NULL, r.value, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, r.quality
FROM w CROSS JOIN LATERAL ({window_rows("$1", "w.lo", "w.hi")}
) r
UNION ALL
SELECT 4, w.lo, w.hi, (SELECT ts FROM readings WHERE point_id = $1 AND ts >= w.hi ORDER BY ts LIMIT 1),
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM w
"""
# One point, stored rows as they are: $8 whether the point is priced (a day's hours are read only then).
_ONE = _HEAD + _STATE_ROW + _STORED_ROWS + _RAW
# One point, runs summed (unpriced month pages): $8 the configured gap limit (seconds), $9 the buckets'
# starts, $10 the point's kind (cumulative), $11 now.
_ONE_SUMMED = _HEAD + "," + _SUMS + _STATE_ROW + _SUMMED + _RAW


@dataclass(slots=True)
class Snapshot:
    """What summary_state, meter_interval and a page's first summary_parts read, fetched at once."""

    state: SummaryState | None
    spacings: list[timedelta] | None  # the middle spacing(s) of the first readings; None when too few
    stored: list  # rows in energy_read._STORED's layout, for _stored_part
    windows: dict[tuple[datetime, datetime], tuple[list[Sample], bool, datetime | None]]
    lo: datetime
    hi: datetime


def day_starts(lo: datetime, hi: datetime, timezone: str) -> list[datetime]:
    """Every local day start from lo's day to the day after hi's."""
    bounds: list[datetime] = []
    day, last = local_day(lo, timezone), local_day(hi, timezone)
    while day <= last:
        start, end = local_day_bounds(day, timezone)
        bounds.append(start)
        day += timedelta(days=1)
    bounds.append(end)
    return bounds


async def summary_snapshots(
    session,
    points: list,
    chunk: list[tuple[datetime, datetime]],
    resolution: str,
    sample_from: datetime,
    now: datetime,
) -> dict[int, Snapshot]:
    """Each point's page step over the chunk's buckets in one statement (points: EnergyPoints of one zone).

    sample_from: where the interval sample starts for points without a configured interval. Stored rows are
    summed per bucket only where nothing prices them (a quarter's cost needs its own hour).
    """
    lo, hi = chunk[0][0], chunk[-1][1]
    days = resolution in ("day", "month")
    zone = points[0].timezone
    bounds: list[datetime] = []
    if resolution == "day":  # only the day starts within [lo, hi] matter: the buckets' own
        bounds = [b[0] for b in chunk] + [hi]
    elif days:
        bounds = day_starts(lo, hi, zone)
    # Hours (four quarters each, a thousand per page) cost more to sum in SQL than to merge here.
    summed = resolution in ("day", "month") and all(p.price is None for p in points)
    # A read needs no BEGIN of its own: inside the caller's transaction if one is open, else autocommit.
    conn = await driver_connection(session)
    if len(points) == 1:
        # a day page of one point would sum only its two edge days' quarters: not worth the statement's work
        starts = [b[0] for b in chunk] if summed and resolution == "month" else None
        return {
            points[0].point_id: await _one(conn, points[0], lo, hi, bounds, days, sample_from, starts, now)
        }
    rows = await conn.fetch(
        _SNAPSHOT,
        [p.point_id for p in points],
        lo,
        hi,
        [not p.interval_seconds for p in points],
        bounds,
        days,
        sample_from,
        [GAP_FACTOR * p.interval_seconds if p.interval_seconds else None for p in points],
        [p.cumulative for p in points],
        [b[0] for b in chunk] if summed else None,
        now,
        resolution == "month",
        any(p.price is not None for p in points),
    )
    heads, stored, windows, nexts = {}, {}, {}, {}
    for row in rows:
        kind, pid = row[0], row[1]
        if kind == 0:
            heads[pid] = row
        elif kind == 3:
            windows.setdefault((pid, row[2], row[3]), []).append(Sample(row[4], row[9], row[20]))
        elif kind == 4:  # every window read, with the time of the first reading after it (next_reading)
            nexts[(pid, row[2], row[3])] = row[4]
        else:  # _STORED's layout: quarter?, start, end, figures..., whole, peak, peak_at, hours
            stored.setdefault(pid, []).append(
                (kind == 2, row[2], row[3], *row[6:17], row[5], row[17], row[4], row[18])
            )
    ready: dict[int, dict] = {}
    for (pid, w_lo, w_hi), following in nexts.items():
        samples = sorted(windows.get((pid, w_lo, w_hi), ()), key=lambda s: s.ts)
        ready.setdefault(pid, {})[(w_lo, w_hi)] = (samples, any(s.ts >= w_hi for s in samples), following)
    out = {}
    for pid, head in heads.items():
        folded_from, tail_start, stale, mid = head[2], head[3], head[5], head[19]
        state = SummaryState(folded_from, tail_start) if folded_from is not None and not stale else None
        out[pid] = Snapshot(
            state, list(mid) if mid else None, stored.get(pid, []), ready.get(pid, {}), lo, hi
        )
    return out


async def _fetch_generic(conn, statement: str, *args) -> list:
    """Rows of a one-point statement, run with its generic plan when no transaction of the caller is open.

    PostgreSQL re-plans the statement for every call (its custom plans look cheaper than the generic one,
    which prunes the monthly partitions of `readings` at run time), and planning is ~40 % of its CPU; the
    generic plan, made once per connection, serves every point and range as well. The setting lives in a
    transaction of our own (SET LOCAL), so it never reaches another statement; inside a caller's transaction
    it would outlive this call, so there the statement is planned as usual.
    """
    if conn.is_in_transaction():
        return await conn.fetch(statement, *args)
    async with conn.transaction(readonly=True):
        await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        return await conn.fetch(statement, *args)


async def _one(conn, point, lo, hi, bounds, days: bool, sample_from: datetime, starts, now) -> Snapshot:
    """One point's step through _ONE (its rows in _ONE's layout, without the point column).

    starts: the buckets' starts when stored rows are summed, else None."""
    sample = 0 if point.interval_seconds else INTERVAL_SAMPLE
    common = (point.point_id, lo, hi, sample, bounds, days, sample_from)
    if starts is None:
        rows = await _fetch_generic(conn, _ONE, *common, point.price is not None)
    else:
        gap = GAP_FACTOR * point.interval_seconds if point.interval_seconds else None
        rows = await _fetch_generic(conn, _ONE_SUMMED, *common, gap, starts, point.cumulative, now)
    state, spacings, stored, windows, nexts = None, None, [], {}, {}
    for row in rows:
        kind = row[0]
        if kind == 0:
            folded_from, tail_start, stale, stamps = row[1], row[2], row[4], row[5]
            if folded_from is not None and not stale:
                state = SummaryState(folded_from, tail_start)
            spacings = list(row[18]) if stamps >= 2 else None
        elif kind == 3:
            windows.setdefault((row[1], row[2]), []).append(Sample(row[3], row[8], row[19]))
        elif kind == 4:  # every window read, with the time of the first reading after it (next_reading)
            nexts[(row[1], row[2])] = row[3]
        else:  # _STORED's layout: quarter?, start, end, figures..., whole, peak, peak_at, hours
            stored.append((kind == 2, row[1], row[2], *row[5:16], row[4], row[16], row[3], row[17]))
    ready = {}
    for (w_lo, w_hi), following in nexts.items():
        samples = sorted(windows.get((w_lo, w_hi), ()), key=lambda s: s.ts)
        ready[(w_lo, w_hi)] = (samples, any(s.ts >= w_hi for s in samples), following)
    return Snapshot(state, spacings, stored, ready, lo, hi)
