"""Rollup increments from the rows the energy summary fold reads: the new readings are read once, not twice.

The worker's fold reads each point's queued range as the energy summary's windows, in time order
(db/central/energy_summary.py fold_ranges). For a point whose queued readings all follow the last reading
its rollups hold (`last`), this adds up the readings after `last` up to the end of its queued range per
UTC hour and per local day by the rules of the SQL append it replaces (db/central/rollups/append.py
APPEND_ROLLUPS): a reading counts in the hour and day holding it, the delta from the usable reading before
it in those holding (end - 1 µs). The increments are added to the stored rows with the append's own
ON CONFLICT assignments. A point this pass cannot take (its window starts after `last`, or it was not read)
is left to the SQL append or the rebuild, as before. `_fold` is the reference; db/central/_fold.c
rollup_fold runs it over the window's bytes where that module is built (energy_fold.native).
"""

import logging
from bisect import bisect_right
from collections.abc import Collection, Mapping
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

import asyncpg

from db.central import energy_fold
from db.central.energy_fold import COPY_HEADER, COPY_TRAILER, EPOCH, MICROSECOND, Window, micros
from db.central.rollups.append import add_to
from db.central.rollups.refresh import PointInfo
from db.central.rollups.sql import STAT_COLUMNS
from db.energy import BAD_QUALITY, RESET_FRACTION, local_day, local_day_bounds

logger = logging.getLogger(__name__)

H_US = 3_600_000_000
PG_EPOCH_DAY = date(2000, 1, 1)
# a part (one hour or one local day of one point): the columns of STAT_COLUMNS, times in microseconds
COUNT, GOOD, VMIN, VMAX, VSUM, FIRST_TS, FIRST, LAST_TS, LAST, CONSUMPTION, RESETS, GAPS = range(12)

_STATS = """$3::int[], $4::int[], $5::float8[], $6::float8[], $7::float8[], $8::timestamptz[], $9::float8[],
  $10::timestamptz[], $11::float8[], $12::float8[], $13::int[], $14::int[]"""

_STAGE_STATS = """count int, good_count int, min_value float8, max_value float8, sum_value float8,
  first_ts timestamptz, first_value float8, last_ts timestamptz, last_value float8, consumption float8,
  reset_count int, gap_count int"""

_HOURLY = f"""
INSERT INTO rollup_hourly AS h (point_id, bucket, {STAT_COLUMNS})
SELECT * FROM unnest($1::bigint[], $2::timestamptz[], {_STATS})
ORDER BY 1, 2  -- one lock order with the rebuilds
ON CONFLICT (point_id, bucket) DO UPDATE SET {add_to("h")}
"""

_DAILY = f"""
INSERT INTO rollup_daily AS d (point_id, day, bucket, bucket_end, {STAT_COLUMNS})
SELECT p, day, s, e, c, g, mn, mx, sm, fts, fv, lts, lv, cons, r, gp
FROM unnest($1::bigint[], $2::date[], {_STATS}, $15::timestamptz[], $16::timestamptz[])
  AS t(p, day, c, g, mn, mx, sm, fts, fv, lts, lv, cons, r, gp, s, e)
ORDER BY 1, 2
ON CONFLICT (point_id, day) DO UPDATE SET {add_to("d")}
"""

# Temporary tables of one fold's increments (per database session; emptied at commit, and before each fold:
# a transaction may fold more than once, as flush_rollups(session) does, and must not add a fold's rows twice;
# DELETE on the empty table of the usual one fold per transaction reads no page)
_STAGES = f"""
SET LOCAL client_min_messages = warning;  -- no "already exists" notice per fold
CREATE TEMP TABLE IF NOT EXISTS rollup_hourly_in (point_id bigint, bucket timestamptz, {_STAGE_STATS})
  ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS rollup_daily_in (point_id bigint, day date, bucket timestamptz,
  bucket_end timestamptz, {_STAGE_STATS}) ON COMMIT DELETE ROWS;
DELETE FROM rollup_hourly_in;
DELETE FROM rollup_daily_in;
"""

_FROM_STAGES = f"""
INSERT INTO rollup_hourly AS h (point_id, bucket, {STAT_COLUMNS})
SELECT point_id, bucket, {STAT_COLUMNS} FROM rollup_hourly_in
ORDER BY 1, 2  -- one lock order with the rebuilds
ON CONFLICT (point_id, bucket) DO UPDATE SET {add_to("h")};
INSERT INTO rollup_daily AS d (point_id, day, bucket, bucket_end, {STAT_COLUMNS})
SELECT point_id, day, bucket, bucket_end, {STAT_COLUMNS} FROM rollup_daily_in
ORDER BY 1, 2
ON CONFLICT (point_id, day) DO UPDATE SET {add_to("d")};
"""

_COPY_COLUMNS = {  # the rows rollup_copy makes, in its order
    "rollup_hourly": ["point_id", "bucket", *STAT_COLUMNS.replace(" ", "").split(",")],
    "rollup_daily": ["point_id", "day", "bucket", "bucket_end", *STAT_COLUMNS.replace(" ", "").split(",")],
}

# What the rollups hold of each point: its newest hourly row, and its first reading when it has none.
_HELD = """
SELECT t.pid, h.count, h.last_ts, f.ts
FROM unnest($1::bigint[]) AS t(pid)
LEFT JOIN LATERAL (
  SELECT point_id, count, last_ts FROM rollup_hourly WHERE point_id = t.pid ORDER BY bucket DESC LIMIT 1
) h ON true
LEFT JOIN LATERAL (
  SELECT ts FROM readings WHERE point_id = t.pid AND h.point_id IS NULL ORDER BY ts LIMIT 1
) f ON true
"""


def _part() -> list:
    return [0, 0, None, None, 0.0, None, None, None, None, None, 0, 0]


class _Days:
    """A point's local days from the one holding lo_us to the one holding hi_us: starts[i] to starts[i + 1].

    The lists are shared by every point of the zone with the same days (_calendar): read, never changed."""

    __slots__ = ("days", "starts", "pg_days")

    def __init__(self, lo_us: int, hi_us: int, zone: str):
        first, last = local_day(_dt(lo_us), zone), local_day(_dt(hi_us), zone)
        self.days, self.starts, self.pg_days = _calendar(first, last, zone)


@lru_cache(maxsize=1024)  # a round's points share a few zones and days: built per point, ~13 % of its Python
def _calendar(day: date, last: date, zone: str) -> tuple[list[date], list[int], list[int]]:
    """The local days from day to last, their starts and the next day's (µs since 1970), and PostgreSQL's
    day numbers of them (rollup_copy)."""
    days: list[date] = []
    starts: list[int] = []
    while day <= last:
        start, end = local_day_bounds(day, zone)
        days.append(day)
        starts.append(micros(start))
        day += timedelta(days=1)
    starts.append(micros(end))
    return days, starts, [(day - PG_EPOCH_DAY).days for day in days]


def _dt(us: int) -> datetime:
    return EPOCH + us * MICROSECOND


class _Point:
    """One point's pass: its bounds, the usable reading before, its hour and day parts."""

    __slots__ = ("last", "tmax", "info", "gap", "prev_us", "prev_v", "started", "broken", "parts")

    def __init__(self, last: int, tmax: int, info: PointInfo):
        self.last, self.tmax, self.info = last, tmax, info
        # make_interval(secs => max_gap) in the SQL: microseconds
        self.gap = round(info.max_gap_seconds * 1_000_000) if info.max_gap_seconds is not None else None
        self.prev_us: int | None = None
        self.prev_v: float | None = None
        self.started = self.broken = False
        self.parts: dict[tuple[int, int], list] = {}  # (UTC hour, local day index): the SQL append's parts


class RollupStream:
    """Collects the rollup increments of the points it may append while the summary fold reads them."""

    def __init__(
        self,
        held: Mapping[int, int],
        spans: Mapping[int, tuple[datetime, datetime]],
        infos,
        bare: Collection[int] = frozenset(),
    ):
        """held: point -> microseconds of the last reading its rollups hold (the first reading - 1 without);
        bare: points without any rollup row (Held)."""
        self.points = {pid: _Point(last, micros(spans[pid][1]), infos[pid]) for pid, last in held.items()}
        self.bare = bare
        self.calendars: dict[int, _Days] = {}

    def done(self) -> set[int]:
        """Points whose increments this pass holds in full."""
        return {pid for pid, p in self.points.items() if p.started and not p.broken}

    def visit(self, pid: int, lo_us: int, hi_us: int, window: Window) -> None:
        """Take one window of the summary fold (energy_summary.Visit): rows in [lo, hi) and their neighbours."""
        p = self.points.get(pid)
        if p is None or p.broken:
            return
        skip_before = -(2**63)
        if not p.started:  # the first window must hold every reading after `last`
            p.started = True
            if lo_us > p.last + 1:
                p.broken = True
                return
        else:  # the usable reading before lo was seen in the window before
            skip_before = lo_us
        calendar = self.calendars.get(pid)
        if calendar is None:
            calendar = self.calendars[pid] = _Days(p.last, max(p.tmax, p.last), p.info.timezone)
        until = min(hi_us - 1, p.tmax)
        native = energy_fold.native
        if native is not None:
            info = p.info
            p.prev_us, p.prev_v = native.rollup_fold(
                window.stamps, window.values, window.qualities, skip_before, until, p.last, p.prev_us,
                p.prev_v, info.cumulative, info.rollover, p.gap, RESET_FRACTION, calendar.starts, p.parts,
            )  # fmt: skip
            return
        stamps, values, qualities = window.lists()
        first = 0
        while first < len(stamps) and stamps[first] < skip_before:
            first += 1
        _fold(p, calendar, stamps, values, qualities, first, until)

    def rows(self) -> tuple[list[list], list[list]]:
        """Columns of the hourly and daily upserts of the points done."""
        hourly: list[list] = [[] for _ in range(14)]
        daily: list[list] = [[] for _ in range(16)]
        for pid in sorted(self.done()):
            hours: dict[int, list] = {}
            days: dict[int, list] = {}
            for (h, d), part in sorted(self.points[pid].parts.items()):  # in time order
                _combine(hours, h, part)
                _combine(days, d, part)
            for h, part in hours.items():
                _columns(hourly, pid, _dt(h * H_US), part)
            calendar = self.calendars[pid]
            for d in sorted(days):
                _columns(daily, pid, calendar.days[d], days[d])
                daily[14].append(_dt(calendar.starts[d]))
                daily[15].append(_dt(calendar.starts[d + 1]))
        return hourly, daily

    async def write(self, conn) -> None:
        """Add the increments to the stored hourly and daily rows (asyncpg connection in the fold's transaction)."""
        native = energy_fold.native
        if native is not None:
            await self._write_staged(conn, native)
            return
        hourly, daily = self.rows()
        if hourly[0]:
            await conn.execute(_HOURLY, *hourly)
        if daily[0]:
            await conn.execute(_DAILY, *daily)

    def held(self, pid: int) -> tuple[int, int]:
        """The newest UTC hour (hours since 1970) and local day (index in the point's calendar, whose first day
        holds `last`) that may have a stored row: (-1, -1) for a bare point."""
        return (-1, -1) if pid in self.bare else (self.points[pid].last // H_US, 0)

    async def _write_staged(self, conn, native) -> None:
        """write() with the rows as binary COPY data from C (rows() combined in _fold.c rollup_copy): the rows of
        hours and days no stored row can hold (after the hour and the local day of the last reading the
        rollups hold, or all of a bare point's) are copied in, the others staged in temporary tables and
        added by the upserts. asyncpg encoding 26 arrays element by element cost more than the upserts, and
        the upserts (a speculative insert per row) ~3 µs a row more than COPY's batched inserts."""
        done = sorted(self.done())
        if not done:
            return
        staged = [bytearray(COPY_HEADER), bytearray(COPY_HEADER)]  # hourly, daily
        fresh = [bytearray(COPY_HEADER), bytearray(COPY_HEADER)]
        for pid in done:
            calendar, parts = self.calendars[pid], self.points[pid].parts
            native.rollup_copy(
                parts, pid, calendar.starts, calendar.pg_days, *staged, *self.held(pid), *fresh
            )
        if not await _copy_fresh(conn, fresh):
            for rows, into in zip(fresh, staged, strict=True):  # added by the upserts instead
                into += rows[len(COPY_HEADER) :]
        if len(staged[0]) > len(COPY_HEADER) or len(staged[1]) > len(COPY_HEADER):
            await conn.execute(_STAGES)
            for table, rows in zip(("rollup_hourly_in", "rollup_daily_in"), staged, strict=True):
                rows += COPY_TRAILER
                await conn.copy_to_table(table, source=memoryview(rows), format="binary")
            await conn.execute(_FROM_STAGES)


async def _copy_fresh(conn, fresh: list[bytearray]) -> bool:
    """COPY the hourly and daily rows no stored row can hold (binary COPY data without its trailer); False,
    with nothing written, when a row exists after all: a writer this module does not know of must cost an
    upsert, not stall the queue behind a fold that fails on every retry."""
    if all(len(rows) == len(COPY_HEADER) for rows in fresh):
        return True
    await conn.execute("SAVEPOINT rollup_fresh_rows")
    try:
        for table, rows in zip(("rollup_hourly", "rollup_daily"), fresh, strict=True):
            if len(rows) > len(COPY_HEADER):
                data = memoryview(rows + COPY_TRAILER)
                await conn.copy_to_table(table, source=data, columns=_COPY_COLUMNS[table], format="binary")
    except asyncpg.UniqueViolationError:
        logger.warning("rollup rows after the newest hour existed already; adding them by upsert instead")
        await conn.execute("ROLLBACK TO SAVEPOINT rollup_fresh_rows")
        return False
    await conn.execute("RELEASE SAVEPOINT rollup_fresh_rows")
    return True


def _columns(out: list[list], pid: int, key, part: list) -> None:
    stamps = (_dt(part[FIRST_TS]) if part[FIRST_TS] is not None else None,)
    last = (_dt(part[LAST_TS]) if part[LAST_TS] is not None else None,)
    row = (pid, key, *part[:FIRST_TS], *stamps, part[FIRST], *last, *part[LAST:])
    for column, item in zip(out, row, strict=False):
        column.append(item)


def _combine(into: dict, key: int, part: list) -> None:
    """Add a later part to the hour or day it lies in (the SQL append's combination of parts)."""
    acc = into.get(key)
    if acc is None:
        into[key] = list(part)
        return
    acc[COUNT] += part[COUNT]
    acc[GOOD] += part[GOOD]
    if part[FIRST_TS] is not None:
        if acc[FIRST_TS] is None:
            acc[FIRST_TS], acc[FIRST], acc[VMIN], acc[VMAX] = (
                part[FIRST_TS],
                part[FIRST],
                part[VMIN],
                part[VMAX],
            )
        else:
            acc[VMIN], acc[VMAX] = min(acc[VMIN], part[VMIN]), max(acc[VMAX], part[VMAX])
        acc[LAST_TS], acc[LAST] = part[LAST_TS], part[LAST]
    acc[VSUM] += part[VSUM]
    if part[CONSUMPTION] is not None:
        acc[CONSUMPTION] = (
            part[CONSUMPTION] if acc[CONSUMPTION] is None else acc[CONSUMPTION] + part[CONSUMPTION]
        )
    acc[RESETS] += part[RESETS]
    acc[GAPS] += part[GAPS]


def _fold(p: _Point, calendar: _Days, stamps, values, qualities, first: int, until: int) -> None:
    """Add the rows from index first with last < time <= until to p's parts (rows in time order)."""
    last, parts, starts = p.last, p.parts, calendar.starts
    cumulative, rollover, gap = p.info.cumulative, p.info.rollover, p.gap
    prev_us, prev_v = p.prev_us, p.prev_v
    part_lo = part_hi = 0  # bounds of the current part: [its hour] ∩ [its local day]
    cur: list = []
    for i in range(first, len(stamps)):
        us = stamps[i]
        if us > until:
            break
        v, q = values[i], qualities[i]
        if us <= last:  # folded already: only the usable reading before the new ones matters
            if q < BAD_QUALITY:
                prev_us, prev_v = us, v
            continue
        if not part_lo <= us < part_hi:
            cur, part_lo, part_hi = _part_at(parts, starts, us)
        cur[COUNT] += 1
        if q == 0:
            cur[GOOD] += 1
        if cur[FIRST_TS] is None:
            cur[FIRST_TS], cur[FIRST], cur[VMIN], cur[VMAX] = us, v, v, v
        elif v < cur[VMIN]:
            cur[VMIN] = v
        elif v > cur[VMAX]:
            cur[VMAX] = v
        cur[VSUM] += v
        cur[LAST_TS], cur[LAST] = us, v
        if q >= BAD_QUALITY:
            continue
        if prev_us is not None:
            gapped = gap is not None and us - prev_us > gap
            if cumulative or gapped:
                # the delta belongs to the part holding (end - 1 µs): another one only for a reading at its start
                to = cur if us > part_lo else _part_at(parts, starts, us - 1)[0]
                if cumulative:
                    if v >= prev_v:  # sql.register_delta and register_wrapped, inlined
                        delta, wrapped = v - prev_v, False
                    elif rollover is not None and 0 <= rollover - prev_v + v <= rollover / 2:
                        delta, wrapped = rollover - prev_v + v, True
                    elif v < prev_v * RESET_FRACTION:
                        delta, wrapped = max(v, 0.0), True
                    else:
                        delta, wrapped = 0.0, False
                    c = to[CONSUMPTION]
                    to[CONSUMPTION] = delta if c is None else c + delta
                    if wrapped:
                        to[RESETS] += 1
                if gapped:
                    to[GAPS] += 1
        prev_us, prev_v = us, v
    p.prev_us, p.prev_v = prev_us, prev_v


def _part_at(parts: dict, starts: list[int], us: int) -> tuple[list, int, int]:
    """The part holding us, with its bounds (created empty when new)."""
    h, d = us // H_US, bisect_right(starts, us) - 1
    part = parts.get((h, d))
    if part is None:
        part = parts[(h, d)] = _part()
    return part, max(h * H_US, starts[d]), min((h + 1) * H_US, starts[d + 1])


class Held(NamedTuple):
    """What the rollups hold of the points a pass may append (held_lasts)."""

    # point -> microseconds of the last reading its rollups hold (its first reading - 1 without)
    lasts: dict[int, int]
    bare: frozenset[int]  # the points without any rollup row: every row of theirs is new


async def held_lasts(conn, spans: Mapping[int, tuple[datetime, datetime]]) -> Held:
    """Points the pass may append, with the microseconds of the last reading their rollups hold.

    As the SQL append: a point with rollups whose queued readings all follow the last one they hold, or a
    point without rollups (from its first reading on).
    """
    pids = sorted(spans)
    held, bare = {}, set()
    for pid, count, last_ts, first_ts in await conn.fetch(_HELD, pids):
        if count is None:
            if first_ts is not None:
                held[pid] = micros(first_ts) - 1
                bare.add(pid)
        elif count > 0 and spans[pid][0] > last_ts:
            held[pid] = micros(last_ts)
    return Held(held, frozenset(bare))
