"""Kept rows (db/central/energy_tail.py): what a state keeps is the point's rows from the usable one before its
tail_start on, and a fold of on-time uploads made from them and the carried rows reads no raw row."""

import json
import uuid
from datetime import UTC, datetime, timedelta
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from db.central import energy_fold, energy_summary, energy_tail
from db.central.energy_fold import Window, micros
from db.central.ingest import batch as ingest
from db.central.ingest.batch import ingest_batch, insert_rows
from db.central.rollups.carried import Carried
from db.central.rollups.queue import flush_rollups
from db.clock import FixedClock, clock, use_clock
from db.engine import asyncpg_connection, session_scope
from tests.support.energy import FOLD_FORMS, Db, fold_form, make_point
from tests.support.native import require_built

T0 = datetime(2026, 3, 2, 9, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def _window(rows: list[tuple[datetime, float, int]]) -> Window:
    return Window.of([(micros(ts), value, quality) for ts, value, quality in rows])


def _rows(window: Window) -> list[tuple[int, float, int]]:
    return list(zip(*window.lists(), strict=True))


def _carried(rows: list[tuple[datetime, float, int]]) -> Carried:
    window = _window(rows)
    return Carried(micros(rows[0][0]), micros(rows[-1][0]), window.stamps, window.values, window.qualities)


END = micros(T0 + 60 * MINUTE)  # after every row of these windows


def test_a_state_keeps_the_usable_row_before_its_tail_start_and_every_row_from_it_to_the_claimed_one():
    rows = [(T0 + k * MINUTE, float(k), 2 if k in (12, 13) else 0) for k in range(20)]  # 09:01 … 09:20
    tail = micros(datetime(2026, 3, 2, 9, 15, tzinfo=UTC))
    kept = energy_tail.unpack(energy_tail.keep(_window(rows), tail, END))
    # 09:13 and 09:14 are bad: the usable row before the tail is 09:12, then 09:15 … 09:20
    assert _rows(kept) == [(micros(ts), v, q) for ts, v, q in [rows[11], *rows[14:]]]
    assert energy_tail.keep(_window(rows[14:]), tail, END) == energy_tail.keep(
        _window(rows[14:]), tail - 1, END
    )
    # rows after the newest claimed one (09:17) belong to uploads still queued: not kept
    claimed = micros(rows[16][0])
    kept = energy_tail.unpack(energy_tail.keep(_window(rows), tail, claimed))
    assert _rows(kept) == [(micros(ts), v, q) for ts, v, q in [rows[11], *rows[14:17]]]
    assert energy_tail.keep(_window([]), tail, END) is None
    many = [(T0 + k * timedelta(seconds=0.2), 1.0, 0) for k in range(energy_tail.TAIL_ROWS + 1)]
    assert energy_tail.keep(_window(many), micros(T0), END) is None  # a faster point's rows are read back


@settings(max_examples=200, deadline=None)
@given(
    qualities=st.lists(st.integers(0, 2), max_size=40),
    tail=st.integers(-2, 42),
    upto=st.integers(-2, 42),
    start=st.integers(0, 42),
    limit=st.integers(1, 45),
)
def test_the_c_forms_of_keep_and_newest_usable_equal_the_python_ones(qualities, tail, upto, start, limit):
    require_built(energy_fold.native, "db/central/_fold.c")
    window = _window([(T0 + k * MINUTE, k / 3, q) for k, q in enumerate(qualities)])
    tail_us, upto_us = micros(T0 + tail * MINUTE), micros(T0 + upto * MINUTE)
    answers = []
    for form in FOLD_FORMS:
        with fold_form(form), mock.patch.object(energy_tail, "TAIL_ROWS", limit):
            answers.append(
                (energy_tail.keep(window, tail_us, upto_us), energy_tail.newest_usable(window, start))
            )
    assert answers[0] == answers[1]


def test_kept_rows_extend_only_with_carried_rows_after_them_that_agree_with_the_state():
    rows = [(T0 + k * MINUTE, float(k), 0) for k in range(14, 20)]  # 09:15 … 09:20
    kept = energy_tail.keep(_window(rows), micros(datetime(2026, 3, 2, 9, 15, tzinfo=UTC)), END)
    tail_start, last = datetime(2026, 3, 2, 9, 15, tzinfo=UTC), rows[-1][0]
    new = [(T0 + k * MINUTE, float(k), 2 if k == 24 else 0) for k in range(20, 25)]
    extended = energy_tail.extend(kept, _carried(new), tail_start, last, last)
    assert _rows(extended.window) == [(micros(ts), v, q) for ts, v, q in rows + new]
    assert extended.newest_us == micros(new[-1][0])
    assert extended.last_usable_us == micros(new[-2][0])  # the newest row is bad
    assert energy_tail.extend(kept, _carried(rows[-1:] + new), tail_start, last, last) is None  # overlaps
    stored_since = last + MINUTE / 2
    assert energy_tail.extend(kept, _carried(new), tail_start, last, stored_since) is None
    assert energy_tail.extend(kept, _carried(new), tail_start, last, None) is None
    assert energy_tail.extend(kept, _carried(new), tail_start, last - MINUTE, last) is None  # state disagrees
    assert energy_tail.extend(kept, _carried(new), tail_start + timedelta(minutes=15), last, last) is None
    assert energy_tail.extend(kept, _carried(new), tail_start, None, last) is None
    assert energy_tail.extend(kept[:-1], _carried(new), tail_start, last, last) is None
    later = [(ts + timedelta(days=3), v, q) for ts, v, q in new]
    assert energy_tail.extend(kept, _carried(later), tail_start, last, last) is None  # kept rows too old


async def kept_rows_are_stored_rows(db: Db, point: int) -> bool:
    """Whether the point's kept rows (when it has any) are its stored rows from the usable one before its
    tail_start on; True when it keeps none."""
    async with session_scope(db.sessions) as session:
        state = (
            await session.execute(
                text("SELECT tail_start, tail FROM energy_summary_state WHERE point_id = :p"), {"p": point}
            )
        ).one_or_none()
        if state is None or state.tail is None:
            return True
        stored = await session.execute(
            text(
                "(SELECT ts, value, quality FROM readings WHERE point_id = :p AND ts < :t AND quality < 2 "
                "ORDER BY ts DESC LIMIT 1) UNION ALL "
                "(SELECT ts, value, quality FROM readings WHERE point_id = :p AND ts >= :t ORDER BY ts)"
            ),
            {"p": point, "t": state.tail_start},
        )
        want = sorted((micros(ts), value, quality) for ts, value, quality in stored)
    return _rows(energy_tail.unpack(state.tail)) == want


async def _upload(db: Db, point: int, rows: list[tuple[datetime, float, int]]) -> None:
    async with session_scope(db.sessions) as session:
        meter = (
            await session.execute(
                text(
                    "SELECT m.site_id, m.external_id FROM meters m JOIN data_points p ON p.meter_id = m.id "
                    "WHERE p.id = :p"
                ),
                {"p": point},
            )
        ).one()
        items = [
            {"meter_external_id": meter.external_id, "data_point": "total_kwh", "timestamp": ts.isoformat(),
             "value": value, "unit": "kilowatt-hours", "quality": quality}
            for ts, value, quality in rows
        ]  # fmt: skip
        await ingest_batch(session, meter.site_id, uuid.uuid4().hex, items)


def test_on_time_uploads_are_folded_from_kept_and_carried_rows_reading_no_raw_row(own_db, monkeypatch):
    require_built(ingest.native_rows, "db/central/ingest/_rows.c")
    seen = {"known": 0, "read": 0}
    fold_ranges = energy_summary.fold_ranges

    async def counting(conn, ranges, infos, through, tails=None, newests=None, known=None, fresh=frozenset()):
        seen["known"] += len(known or {})
        seen["read"] += len(ranges) - len(known or {})
        return await fold_ranges(conn, ranges, infos, through, tails, newests, known, fresh)

    monkeypatch.setattr(energy_summary, "fold_ranges", counting)
    rows = [(T0 + k * MINUTE, 100.0 + k / 4, 1 if k % 7 == 3 else 0) for k in range(240)]
    with use_clock(FixedClock(rows[-1][0] + timedelta(days=1))):

        async def run() -> int:
            point = await make_point(own_db, timezone="Europe/Berlin")
            for start in range(0, len(rows), 20):  # 20 minutes an upload, folded one by one
                await _upload(own_db, point, rows[start : start + 20])
                await flush_rollups(own_db.sessions)
                assert await kept_rows_are_stored_rows(own_db, point)
            return point

        point = own_db.run(run())
    assert seen == {"known": 11, "read": 1}  # the first fold reads; every later one extends the kept rows

    async def late() -> bool:  # a late upload among the kept rows: read back, and kept anew
        await _upload(own_db, point, [(rows[-5][0] + timedelta(seconds=30), 160.0, 0)])
        await flush_rollups(own_db.sessions)
        return await kept_rows_are_stored_rows(own_db, point)

    with use_clock(FixedClock(rows[-1][0] + timedelta(days=1))):
        assert own_db.run(late())
    assert seen == {"known": 11, "read": 2}


def test_rows_stored_without_queueing_after_the_kept_ones_make_the_fold_read_back(own_db, monkeypatch):
    """A writer that queues nothing (a benchmark's uploads with upkeep off): the next upload's fold finds a
    stored row after the kept ones and reads the point back, so the summary holds those rows too."""
    require_built(ingest.native_rows, "db/central/ingest/_rows.c")
    rows = [(T0 + k * MINUTE, 100.0 + k / 4, 0) for k in range(90)]
    first, unqueued, last = rows[:30], rows[30:60], rows[60:]

    async def run(skip: bool) -> list[tuple]:
        point = await make_point(own_db)
        await _upload(own_db, point, first)
        await flush_rollups(own_db.sessions)
        if skip:
            async with session_scope(own_db.sessions) as session:
                await insert_rows(session, [(point, ts, v, q) for ts, v, q in unqueued])
        else:
            await _upload(own_db, point, unqueued)
            await flush_rollups(own_db.sessions)
        await _upload(own_db, point, last)
        await flush_rollups(own_db.sessions)
        assert await kept_rows_are_stored_rows(own_db, point)
        async with session_scope(own_db.sessions) as session:
            quarters = await session.execute(
                text("SELECT q, count, consumption FROM energy_quarters WHERE point_id = :p ORDER BY q"),
                {"p": point},
            )
            return [tuple(row) for row in quarters]

    with use_clock(FixedClock(rows[-1][0] + timedelta(days=1))):
        skipped, queued = own_db.run(run(True)), own_db.run(run(False))
    assert skipped == queued
    tail = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)  # the newest reading's quarter is read raw, not stored
    assert sum(count for _, count, _ in skipped) == len([row for row in rows if row[0] < tail])


def _plan_nodes(node: dict):
    yield node
    for child in node.get("Plans", ()):
        yield from _plan_nodes(child)


def test_the_kept_rows_lookup_reads_its_points_once_whatever_the_statistics_say(own_db):
    """Statistics taken while no state kept rows (`tail IS NOT NULL`: one row expected) once gave the kept-rows
    lookup a nested loop reading the whole unnest of points again for every state; its generic plan (a
    prepared statement's, after five runs) must read the points once and find each state by its key."""
    points = list(range(-400, -200))  # states of their own (no data point has a negative id)

    async def plan() -> dict:
        async with session_scope(own_db.sessions) as session:
            conn = await asyncpg_connection(session)
            now = clock().now()
            await conn.execute("DELETE FROM energy_summary_state")  # undone: the transaction is rolled back
            await conn.execute(
                "INSERT INTO energy_summary_state (point_id, folded_from, tail_start) "
                "SELECT unnest($1::bigint[]), $2, $2",
                points,
                now,
            )
            await conn.execute("ANALYZE energy_summary_state")
            for _ in range(10):  # as folds do: new row versions, and pages, since the statistics were taken
                await conn.execute("UPDATE energy_summary_state SET tail = '\\x00'::bytea")
            await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            await conn.execute(f"PREPARE kept_rows (bigint[], timestamptz[]) AS {energy_summary._KEPT}")
            ids = "{" + ",".join(map(str, points)) + "}"
            firsts = "{" + ",".join(f'"{now.isoformat()}"' for _ in points) + "}"
            [(explained,)] = await conn.fetch(
                f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE kept_rows ('{ids}', '{firsts}')"
            )
            await conn.execute("DEALLOCATE kept_rows")
            await session.rollback()
        return (json.loads(explained) if isinstance(explained, str) else explained)[0]["Plan"]

    root = own_db.run(plan())
    assert root["Actual Rows"] == len(points)
    scans = [node for node in _plan_nodes(root) if node["Node Type"] == "Function Scan"]
    assert scans and all(node["Actual Loops"] == 1 for node in scans)
