"""Fold readings into the stored 15-minute energy summary (PostgreSQL; docs/energy-data.md).

For each point with queued readings in [tmin, tmax], the quarters from the one holding the usable reading
before tmin to the one holding the usable reading after tmax (or the newest reading claimed) are recomputed
from raw rows: every interval a new, late or replaced reading changes lies there. Then the local days holding
those quarters are summed again from their quarter rows, and the point's state records the contiguous
range of quarters the summary holds exactly, [folded_from, tail_start): tail_start is the quarter of the
newest usable reading its folds have claimed, whose figures the next reading changes, so queries read it and
later quarters raw. Readings of uploads still queued are left to their own folds: with a backlog queued, a
fold reads only what it claimed, and its next fold extends the rows it kept (db/central/energy_tail.py).
"""

from collections.abc import Mapping
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from db.central import energy_fold, energy_tail
from db.central.energy_fold import (
    COPY_HEADER,
    COPY_TRAILER,
    EPOCH,
    FOLD_WINDOW,
    MICROSECOND,
    QUARTER_COLUMNS,
    Window,
    micros,
    window_quarters,
)
from db.central.energy_parts import QUARTER, quarter_floor
from db.central.rollups.carried import Carried
from db.central.storage.lookups import usable_before, window_rows
from db.energy import RESET_FRACTION, local_day, local_day_bounds
from db.engine import asyncpg_connection

EMPTY = Window(b"", b"", b"")

FOLD_WINDOW_SQL = f"interval '{FOLD_WINDOW // timedelta(seconds=1)} seconds'"
FOLD_BATCH = 100  # (point, window) pairs per statement

# Per point: its summary state, the newest reading its folds have claimed with this one (c: tmax, or the
# newest an earlier fold claimed when later; a state from before migration 0018 has no newest, and its
# last_usable stands in: every reading up to it was folded or queued), its usable reading before tmin (p) and
# after tmax up to c (n: a late upload's quarters end at the one holding it), its newest reading in [tmin, c]
# (l: none when the point's readings were deleted since they were queued) and newest usable reading up to c
# (u: the one before tmin when none is at tmin or later). Readings after c belong to uploads still queued:
# their own folds read them. Each lookup backwards has a lower bound first, as in
# db/central/storage/lookups.py: without one it descended into every monthly partition.
_BOUNDS = f"""
SELECT t.pid, p.ts, n.ts, l.ts, u.ts, s.folded_from, s.tail_start, s.newest, c.ts
FROM unnest($1::bigint[], $2::timestamptz[], $3::timestamptz[]) AS t(pid, tmin, tmax)
LEFT JOIN energy_summary_state s ON s.point_id = t.pid
CROSS JOIN LATERAL (SELECT greatest(t.tmax, s.newest, CASE WHEN s.newest IS NULL THEN s.last_usable END) AS ts) c
CROSS JOIN LATERAL (SELECT {usable_before("t.pid", "t.tmin")} AS ts) p
LEFT JOIN LATERAL (SELECT ts FROM readings WHERE point_id = t.pid AND ts >= t.tmin AND ts <= c.ts
                   ORDER BY ts DESC LIMIT 1) l ON true
LEFT JOIN LATERAL (SELECT ts FROM readings WHERE point_id = t.pid AND ts > t.tmax AND ts <= c.ts
                   AND quality < 2 ORDER BY ts LIMIT 1) n ON true
CROSS JOIN LATERAL (SELECT COALESCE(
    (SELECT ts FROM readings WHERE point_id = t.pid AND ts >= t.tmin AND ts <= c.ts AND quality < 2
     ORDER BY ts DESC LIMIT 1),
    p.ts) AS ts) u
"""

# Each window's rows in time order with its usable neighbours, as one row per window: its times, values and
# qualities each as one bytea of their binary forms (energy_fold.unpack_window reads them with no Python
# object per reading; array_agg's datetimes cost ~0.5 µs each, extract(epoch) in SQL is numeric arithmetic)
FOLD_ROWS_SQL = f"""
SELECT t.n, string_agg(timestamptz_send(r.ts), ''::bytea), string_agg(float8send(r.value), ''::bytea),
  string_agg(int2send(r.quality), ''::bytea)
FROM unnest($1::int[], $2::bigint[], $3::timestamptz[], $4::timestamptz[], $5::timestamptz[], $6::bool[])
  AS t(n, pid, lo, hi, until, fresh)
CROSS JOIN LATERAL ({window_rows("t.pid", "t.lo", "t.hi", until="t.until", none_before="t.fresh")}
) r
GROUP BY t.n
"""
# A window of a point whose new rows are carried (db/central/rollups/carried.py) without them: [a, b) is
# skipped, the rows before a and from b on come in two parts, to go on either side of the carried ones.
_SIDES = ", ".join(
    f"string_agg({send}, ''::bytea) FILTER (WHERE r.ts {side} t.a)"
    for side in ("<", ">=")
    for send in ("timestamptz_send(r.ts)", "float8send(r.value)", "int2send(r.quality)")
)
CARRIED_ROWS_SQL = f"""
SELECT t.n, {_SIDES}
FROM unnest($1::int[], $2::bigint[], $3::timestamptz[], $4::timestamptz[], $5::timestamptz[],
  $6::timestamptz[], $7::timestamptz[], $8::bool[]) AS t(n, pid, lo, hi, until, a, b, fresh)
CROSS JOIN LATERAL ({
    window_rows("t.pid", "t.lo", "t.hi", skip=("t.a", "t.b"), until="t.until", none_before="t.fresh")
}
) r
GROUP BY t.n
"""

# The quarter rows of each (point, lo, hi), found by one primary-key range scan each and deleted by their
# row addresses. As a join (DELETE … USING unnest(…)) the planner took a hash join over a sequential scan of
# the whole table whenever it was small enough to look cheap: 5.3 ms against 1.0 ms for 200 points over
# 20,600 quarters, 69 ms of a `bench ingest` trial (OFFSET 0 keeps the lookup from being flattened into it).
_DELETE = """
DELETE FROM energy_quarters WHERE ctid = ANY(ARRAY(
  SELECT x.ctid FROM unnest($1::bigint[], $2::timestamptz[], $3::timestamptz[]) AS t(pid, lo, hi)
  CROSS JOIN LATERAL (
    SELECT ctid FROM energy_quarters e WHERE e.point_id = t.pid AND e.q >= t.lo AND e.q < t.hi OFFSET 0
  ) x
))
"""

_PART_COLUMNS = (
    "count, flagged, usable, vsum, vmin, vmax, first_value, last_value, consumption, span_seconds, longest"
)

_INSERT = f"""
INSERT INTO energy_quarters (point_id, q, whole, {_PART_COLUMNS})
SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::bool[], $4::int[], $5::int[], $6::int[],
  $7::float8[], $8::float8[], $9::float8[], $10::float8[], $11::float8[], $12::float8[], $13::float8[],
  $14::float8[])
"""

# A local day summed from its quarter rows; its demand is its highest quarter (the earliest on ties). Each
# figure reads the day's quarters through the primary key (point_id, q): sums add in time order (sorted
# subqueries: the same figures whatever the plan), first and last stop at their row, the peak keeps one.
# Ordered array_agg over a join sorted every day's quarters once per figure (PostgreSQL 15 sorts each
# ordered aggregate on its own): a third more time per fold round of live uploads. A quarter's hour is taken
# with date_part (float8): extract's numeric arithmetic made the hours half the statement's time (a quarter's
# offset from midnight is a whole number of seconds, exact in either form).
_DAYS = f"""
WITH d AS (
  SELECT * FROM unnest($1::bigint[], $2::date[], $3::timestamptz[], $4::timestamptz[], $5::bool[])
       AS d(pid, day, s, e, cumulative)
)
INSERT INTO energy_days (point_id, day, bucket, bucket_end, {_PART_COLUMNS}, peak, peak_at, hours)
SELECT d.pid, d.day, d.s, d.e, a.count, a.flagged, a.usable, a.vsum, a.vmin, a.vmax, f.first_value,
  l.last_value, a.consumption, a.span_seconds, a.longest, p.demand, p.q, hr.hours
FROM d
CROSS JOIN LATERAL (
  SELECT count(*) AS quarters, sum(count) AS count, sum(flagged) AS flagged, sum(usable) AS usable,
    sum(vsum) AS vsum, min(vmin) AS vmin, max(vmax) AS vmax, sum(consumption) AS consumption,
    sum(span_seconds) AS span_seconds, max(longest) AS longest
  FROM (SELECT * FROM energy_quarters e WHERE e.point_id = d.pid AND e.q >= d.s AND e.q < d.e ORDER BY e.q) e
) a
LEFT JOIN LATERAL (
  SELECT first_value FROM energy_quarters e
  WHERE e.point_id = d.pid AND e.q >= d.s AND e.q < d.e AND e.usable > 0 ORDER BY e.q LIMIT 1
) f ON true
LEFT JOIN LATERAL (
  SELECT last_value FROM energy_quarters e
  WHERE e.point_id = d.pid AND e.q >= d.s AND e.q < d.e AND e.usable > 0 ORDER BY e.q DESC LIMIT 1
) l ON true
LEFT JOIN LATERAL (
  SELECT demand, q FROM (
    SELECT e.q, CASE WHEN d.cumulative THEN CASE WHEN e.whole THEN 4 * e.consumption END
                     WHEN e.usable > 0 THEN e.vsum / e.usable END AS demand
    FROM energy_quarters e WHERE e.point_id = d.pid AND e.q >= d.s AND e.q < d.e
  ) x WHERE demand IS NOT NULL ORDER BY demand DESC, q LIMIT 1
) p ON true
LEFT JOIN LATERAL (
  SELECT json_object_agg(hour, c ORDER BY hour) AS hours FROM (
    SELECT hour, sum(consumption) AS c FROM (
      SELECT floor(date_part('epoch', e.q - d.s) / 3600)::int AS hour, e.consumption FROM energy_quarters e
      WHERE e.point_id = d.pid AND e.q >= d.s AND e.q < d.e AND e.consumption IS NOT NULL ORDER BY 1, e.q
    ) o GROUP BY hour
  ) x
) hr ON true
WHERE a.quarters > 0
ORDER BY 1, 2
ON CONFLICT (point_id, day) DO UPDATE SET bucket = EXCLUDED.bucket, bucket_end = EXCLUDED.bucket_end,
  count = EXCLUDED.count, flagged = EXCLUDED.flagged, usable = EXCLUDED.usable, vsum = EXCLUDED.vsum,
  vmin = EXCLUDED.vmin, vmax = EXCLUDED.vmax, first_value = EXCLUDED.first_value,
  last_value = EXCLUDED.last_value, consumption = EXCLUDED.consumption,
  span_seconds = EXCLUDED.span_seconds, longest = EXCLUDED.longest, peak = EXCLUDED.peak,
  peak_at = EXCLUDED.peak_at, hours = EXCLUDED.hours
"""

_STATE = """
INSERT INTO energy_summary_state (point_id, folded_from, tail_start, last_usable, tail, newest)
SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::timestamptz[], $4::timestamptz[], $5::bytea[],
  $6::timestamptz[])
ON CONFLICT (point_id) DO UPDATE SET folded_from = EXCLUDED.folded_from, tail_start = EXCLUDED.tail_start,
  last_usable = EXCLUDED.last_usable, tail = EXCLUDED.tail, newest = EXCLUDED.newest
"""

# The states of points whose carried rows may extend their kept rows (db/central/energy_tail.py), with the
# newest stored row before the first carried one (the newest kept one, unless an upload still queued or a
# writer that does not queue stored rows between); the kept rows are used only within FOLD_WINDOW of the
# carried ones, so no further back. Each state is found by its key (a lateral the planner may not flatten,
# OFFSET 0): as a join, statistics that saw few kept rows (`tail IS NOT NULL`: one row expected) gave a
# nested loop that read the whole unnest once per state, 200 x 200 rows, 4 ms of a 30 ms fold round.
_KEPT = f"""
SELECT s.point_id, s.folded_from, s.tail_start, s.last_usable, s.tail,
  (SELECT ts FROM readings WHERE point_id = t.pid AND ts < t.first AND ts >= t.first - {FOLD_WINDOW_SQL}
   ORDER BY ts DESC LIMIT 1)
FROM unnest($1::bigint[], $2::timestamptz[]) AS t(pid, first)
CROSS JOIN LATERAL (
  SELECT * FROM energy_summary_state s WHERE s.point_id = t.pid AND s.tail IS NOT NULL OFFSET 0
) s
"""


class _QuarterRows:
    """A fold batch's new quarter rows: binary COPY data from the C loop (energy_fold.native), else the
    columns of _INSERT. The rows replace deleted ones, so COPY needs no conflict handling, and it saves the
    encoding of every figure into arrays (~0.3 µs per reading folded, most of it asyncpg's per-element checks)."""

    def __init__(self):
        self.copy, self.copied = bytearray(COPY_HEADER), 0
        self.columns: list[list] = [[] for _ in range(len(QUARTER_COLUMNS))]

    def add(self, pid: int, window: Window, lo_us: int, hi_us: int, info) -> None:
        """The quarters of one window of point pid (info: its PointInfo)."""
        native = energy_fold.native
        if native is not None:
            self.copied += native.quarters_copy(
                self.copy, pid, window.stamps, window.values, window.qualities, lo_us, hi_us,
                info.cumulative, info.rollover, RESET_FRACTION,
            )  # fmt: skip
            return
        quarters = window_quarters(window, lo_us, hi_us, cumulative=info.cumulative, rollover=info.rollover)
        for start, whole, figures in quarters:
            for column, item in zip(self.columns, (pid, start, whole, *figures), strict=True):
                column.append(item)

    async def write(self, conn) -> None:
        """Insert the rows (asyncpg connection, in the fold's transaction)."""
        if self.copied:
            self.copy += COPY_TRAILER
            await conn.copy_to_table(
                "energy_quarters", source=memoryview(self.copy), columns=QUARTER_COLUMNS, format="binary"
            )
        if self.columns[0]:
            await conn.execute(_INSERT, *self.columns)


async def fold_summary(
    session: AsyncSession,
    spans: Mapping[int, tuple[datetime, datetime]],
    infos,
    carried: Mapping[int, Carried] | None = None,
) -> None:
    """Recompute the quarters and days the readings of each point in [tmin, tmax] affect (infos: PointInfo).

    carried: points whose new rows the caller holds (db/central/rollups/carried.py). A point whose state keeps its
    unfolded rows (db/central/energy_tail.py) is folded from those and the carried ones; for another point
    whose range is one window, only the stored rows around the carried ones are read.
    """
    if not spans:
        return
    conn = await asyncpg_connection(session)
    ranges, states, tails, newests, known, fresh = [], [], {}, {}, {}, set()
    if carried:
        held = sorted(carried)
        firsts = [_dt(carried[pid].first_us) for pid in held]
        for row in await conn.fetch(_KEPT, held, firsts):
            pid, folded_from, tail_start, last_usable, kept, stored = row
            extended = energy_tail.extend(kept, carried[pid], tail_start, last_usable, stored)
            if extended is None:
                continue
            hi = quarter_floor(_dt(extended.newest_us)) + QUARTER
            if hi - tail_start > FOLD_WINDOW:
                continue
            last = _dt(extended.last_usable_us)
            ranges.append((pid, tail_start, hi))
            # the newest claimed: every carried row follows the kept ones, which end at the newest claimed before
            newests[pid] = _dt(extended.newest_us)
            states.append((pid, folded_from, max(folded_from, quarter_floor(last)), last))
            known[pid] = extended.window
    pids = sorted(pid for pid in spans if pid not in known)
    for pid, before, after, found, last_usable, folded_from, tail_start, folded_newest, newest in (
        await conn.fetch(_BOUNDS, pids, [spans[p][0] for p in pids], [spans[p][1] for p in pids])
        if pids
        else ()
    ):
        if found is None and before is None:
            continue  # no reading left to fold
        if (
            before is None
        ):  # no usable reading before tmin, so none before the range's start (at tmin or before)
            fresh.add(pid)
        bare = folded_from is None
        lo = quarter_floor(before or spans[pid][0])
        hi = quarter_floor(after or newest) + QUARTER
        if folded_from is not None:
            if hi < folded_from:
                continue  # older than the summary and not next to it: those quarters stay raw
            lo = min(lo, tail_start)  # never leave unfolded quarters inside the range
            folded_from = min(folded_from, lo)
        else:
            folded_from = lo
        tail = quarter_floor(last_usable) if last_usable is not None else hi
        ranges.append((pid, lo, hi))
        newests[pid] = newest
        states.append((pid, folded_from, max(folded_from, tail), last_usable))
        held = carried.get(pid) if carried else None
        if (
            held is not None
            and _after_folded(held, bare, folded_newest)
            and hi - lo <= FOLD_WINDOW
            and micros(lo) <= held.first_us <= held.last_us < micros(hi)
        ):
            tails[pid] = held
    if not ranges:
        return
    through = {state[0]: state[2] for state in states}
    last_windows = await fold_ranges(conn, ranges, infos, through, tails, newests, known, fresh)
    kept = [_kept(state, newests[state[0]], last_windows.get(state[0])) for state in states]
    await conn.execute(_STATE, *map(list, zip(*states, strict=True)), kept, [newests[s[0]] for s in states])


def _after_folded(held: Carried, bare: bool, folded_newest: datetime | None) -> bool:
    """Whether a point's carried rows all follow every queued reading its summary has folded (the state's
    newest), so that they may stand in for the stored rows between the first and the last of them: a point
    never folded, or one whose earlier folds claimed nothing newer. A late upload's rows mix with stored ones;
    a state from before migration 0018 has no newest: both read the window back. Rows of an upload not
    claimed yet that lie among the carried ones are left out of this fold and folded by that upload's own
    round (db/central/rollups/carried.py)."""
    if folded_newest is None:
        return bare
    return held.first_us > micros(folded_newest)


def _kept(state: tuple, newest: datetime, last: tuple[int, int, Window] | None) -> bytes | None:
    """The rows the point's new state keeps (energy_tail.keep), when the last window the fold read or made
    holds every row from the one before its tail_start to the newest claimed one: the window starts at the
    tail_start or before, and its end is past the newest claimed row (so nothing up to it was left out)."""
    if last is None or state[3] is None or state[2] != quarter_floor(state[3]):
        return None
    lo_us, hi_us, window = last
    tail_us = micros(state[2])
    if not lo_us <= tail_us or micros(newest) >= hi_us or not window.stamps:
        return None
    return energy_tail.keep(window, tail_us, micros(newest))


def _dt(us: int) -> datetime:
    return EPOCH + us * MICROSECOND


async def fold_ranges(
    conn,
    ranges: list[tuple[int, datetime, datetime]],
    infos,
    through: Mapping[int, datetime],
    tails: Mapping[int, Carried] | None = None,
    newests: Mapping[int, datetime] | None = None,
    known: Mapping[int, Window] | None = None,
    fresh: set[int] | frozenset[int] = frozenset(),
) -> dict[int, tuple[int, int, Window]]:
    """Rewrite the quarter rows of each (point, lo, hi) from raw readings, up to the point's through (its new
    tail_start: queries read the quarters from there raw, and the fold that moves tail_start past a quarter
    writes it), then the local days they touch that end by through (sum_days); returns each point's last
    window (lo µs, hi µs, rows).

    tails: points whose range is one window holding their carried rows (fold_summary): only the stored rows
    around those are read. newests: each point's newest reading as fold_summary found it; no row after it
    is looked for. One stored since (a later upload's) is folded by that upload's own round, which starts
    at the tail quarter or before: the quarters before the tail do not depend on it. known: points whose
    range is one window the caller made (fold_summary, from the state's kept rows): nothing is read for them.
    fresh: points with no usable reading before their range: their first window looks for none.
    """
    tails, newests, known = tails or {}, newests or {}, known or {}
    windows, last = [], {}
    for pid, lo, hi in ranges:
        start = lo
        while start < hi:
            windows.append(
                (pid, start, min(hi, start + FOLD_WINDOW), newests.get(pid), start == lo and pid in fresh)
            )
            start += FOLD_WINDOW
    # A known point's range starts at its tail_start, and no fold stores a quarter from there on (below):
    # nothing to delete. (The fold that wrote its kept rows ran after migration 0016, as did every fold since.)
    if stale := [r for r in ranges if r[0] not in known]:
        await conn.execute(_DELETE, *map(list, zip(*stale, strict=True)))
    out = _QuarterRows()  # one COPY per call: its rows replace deleted ones, whatever the batch
    for n in range(0, len(windows), FOLD_BATCH):
        batch = windows[n : n + FOLD_BATCH]
        read = [EMPTY] * len(batch)  # a window without readings is absent from the answer
        for k, w in enumerate(batch):
            if w[0] in known:
                read[k] = known[w[0]]
        plain = [(k, w) for k, w in enumerate(batch) if w[0] not in tails and w[0] not in known]
        if plain:
            keys, asked = zip(*plain, strict=True)
            for k, stamps, values, qualities in await conn.fetch(FOLD_ROWS_SQL, keys, *_columns(asked)):
                read[k] = Window(stamps, values, qualities)
        around = [(k, (*w[:4], *tails[w[0]].skip(), w[4])) for k, w in enumerate(batch) if w[0] in tails]
        if around:
            keys, asked = zip(*around, strict=True)
            for k, *sides in await conn.fetch(CARRIED_ROWS_SQL, keys, *_columns(asked)):
                read[k] = _around(tails[batch[k][0]], *sides)
            for k, _ in around:
                if read[k] is EMPTY:  # nothing stored around the carried rows
                    read[k] = _around(tails[batch[k][0]], *(None,) * 6)
        read = [window.in_order() for window in read]
        for (pid, lo, hi, *_), window in zip(batch, read, strict=True):
            lo_us, hi_us = micros(lo), micros(hi)
            end_us = min(hi_us, micros(through[pid]))  # no query reads a quarter from tail_start on
            if lo_us < end_us:
                out.add(pid, window, lo_us, end_us, infos[pid])
            last[pid] = (lo_us, hi_us, window)
    await out.write(conn)
    await sum_days(conn, ranges, infos, through)
    return last


async def sum_days(
    conn, ranges: list[tuple[int, datetime, datetime]], infos, through: Mapping[int, datetime]
) -> None:
    """Sum again the local days holding each (point, lo, hi) that end by the point's through (its tail_start).

    Queries take a day's row only when the whole day lies before tail_start (db/central/energy_read.py,
    db/central/energy_snapshot.py); the fold that moves tail_start past a day's end holds that day (its range
    starts at the old tail_start, or before), so a day is summed when it closes and again when a late reading
    changes it, not on every fold of the open day: re-summing the open day at each fold round was the
    largest part of the summary's upkeep.
    """
    days: dict[tuple[int, date], tuple[datetime, datetime, bool]] = {}
    for pid, lo, hi in ranges:
        zone, until = infos[pid].timezone, through[pid]
        day, last = local_day(lo, zone), local_day(hi - QUARTER, zone)
        while day <= last:
            start, end = local_day_bounds(day, zone)
            if end > until:
                break
            days[(pid, day)] = (start, end, infos[pid].cumulative)
            day += timedelta(days=1)
    if not days:
        return
    keys = sorted(days)
    await conn.execute(
        _DAYS,
        [k[0] for k in keys],
        [k[1] for k in keys],
        *map(list, zip(*(days[k] for k in keys), strict=True)),
    )


def _columns(rows) -> list[list]:
    return list(map(list, zip(*rows, strict=True)))


def _around(held: Carried, *sides: bytes | None) -> Window:
    """A window of the stored rows before the carried ones, the carried rows, and the stored rows after."""
    ts0, v0, q0, ts1, v1, q1 = (side or b"" for side in sides)
    return Window(ts0 + held.stamps + ts1, v0 + held.values + v1, q0 + held.qualities + q1)


async def rebuild_summary(session: AsyncSession, point_ids: list[int], infos) -> None:
    """Drop the points' summary and fold their whole raw history again (after a kind or zone change)."""
    conn = await asyncpg_connection(session)
    for table in ("energy_quarters", "energy_days", "energy_summary_state"):
        await conn.execute(f"DELETE FROM {table} WHERE point_id = ANY($1::bigint[])", point_ids)
    spans = {
        pid: (lo, hi)
        for pid, lo, hi in await conn.fetch(
            "SELECT point_id, min(ts), max(ts) FROM readings WHERE point_id = ANY($1::bigint[]) GROUP BY 1",
            point_ids,
        )
    }
    await fold_summary(session, spans, infos)
