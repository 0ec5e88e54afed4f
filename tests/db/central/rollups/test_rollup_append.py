"""Incremental folding (db/central/rollups/append.py): queued uploads folded round by round equal the reference."""

import asyncio
import random
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from unittest import mock

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

import api.background.rollup_worker as rollup_worker
import db.central.rollups.append as rollup_append
import db.central.rollups.queue as rollup_queue
from db.central import energy_fold
from db.central.ingest.batch import insert_rows
from db.central.models import DataPoint, Meter
from db.central.rollups.models import RollupDirty
from db.central.rollups.queue import ROLLUP_PARTS, flush_rollups, pending, record_dirty
from db.central.rollups.refresh import rebuild_points
from db.central.rollups.stream import Held, RollupStream
from db.engine import session_scope
from db.migrate import downgrade, upgrade
from tests.support.energy import Db, assert_matches, local_date, make_point, reference, rollups, utc_hour
from tests.support.native import require_built
from tests.support.pg import migrated_central_database

MAX_GAP = timedelta(seconds=180)  # 3 × the default 60 s collection interval
ROLLOVER = 10_000.0
STARTS = [
    datetime(2026, 3, 28, 22, 0, tzinfo=UTC),  # Berlin springs forward at 01:00 UTC
    datetime(2026, 10, 24, 22, 30, tzinfo=UTC),  # Berlin falls back at 01:00 UTC
    datetime(2026, 3, 29, 18, 0, tzinfo=UTC),  # Kolkata's midnight is 18:30 UTC
]
ZONES = ["Europe/Berlin", "Asia/Kolkata", "America/New_York", "UTC"]


@pytest.fixture(scope="module")
def db(pg_server):
    """A migrated central database of this module alone: its queue is folded by these tests only."""
    database_urls = migrated_central_database("meterit_append")
    database = Db(next(database_urls))
    yield database
    database.close()
    next(database_urls, None)


@contextmanager
def counting_rebuilds():
    """Record the points the fold hands to the rebuild from raw rows, per call."""
    calls = []

    async def spy(session, touched):
        if touched:
            calls.append(sorted(touched))
        await real(session, touched)

    real = rollup_append.refresh_rollups
    with mock.patch.object(rollup_append, "refresh_rollups", spy):
        yield calls


@contextmanager
def counting_sql_folds():
    """Record the points the one-pass fold leaves to the SQL append or the rebuild, per round."""
    calls = []

    async def spy(session, rounds):
        calls.append(sorted({pid for touched in rounds for pid in touched}))
        await real(session, rounds)

    real = rollup_queue.fold_rounds
    with mock.patch.object(rollup_queue, "fold_rounds", spy):
        yield calls


async def upload(db: Db, point_id: int, rows: list[tuple]) -> None:
    """Store readings and queue their range, as db.central.ingest.batch does in one transaction."""
    async with session_scope(db.sessions) as session:
        await insert_rows(session, [(point_id, ts, value, q) for ts, value, q in rows])
        stamps = [ts for ts, _, _ in rows]
        await record_dirty(session, 0, {point_id: (min(stamps), max(stamps))})


async def fold(db: Db, claim: int | None = None) -> None:
    """Fold the queue (claim: uploads per round)."""
    with mock.patch.object(rollup_queue, "CLAIM_ROWS", claim or rollup_queue.CLAIM_ROWS):
        await flush_rollups(db.engine)


def check(db: Db, point: int, rows: list[tuple], zone: str, **rules) -> None:
    """The rollups equal the reference, and a full rebuild from raw rows changes nothing."""
    rules = {"rollover": None, "max_gap": MAX_GAP, **rules}
    hourly, daily = db.run(rollups(db, point))
    assert_matches(hourly, reference(rows, utc_hour, **rules))
    assert_matches(daily, reference(rows, local_date(zone), **rules))

    async def rebuild():
        async with session_scope(db.sessions) as session:
            await rebuild_points(session, [point])

    db.run(rebuild())
    rebuilt_hourly, rebuilt_daily = db.run(rollups(db, point))
    assert_matches(hourly, {b: _stats(r) for b, r in rebuilt_hourly.items()})
    assert_matches(daily, {d: _stats(r) for d, r in rebuilt_daily.items()})


def _stats(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in ("point_id", "bucket", "day", "bucket_end")}


def minutes(start: datetime, first: int, last: int, value=lambda m: 1000.0 + m, quality=0) -> list[tuple]:
    """A reading every minute from start + first to start + last minutes."""
    return [(start + timedelta(minutes=m), value(m), quality) for m in range(first, last + 1)]


steps = st.tuples(
    st.sampled_from([30, 60, 60, 60, 120, 240, 3600]),  # seconds to the next reading (on the hour often)
    st.one_of(
        st.floats(0, 5, allow_nan=False),
        st.just(-1e9),  # counter reset
        st.floats(-0.01, 0, allow_nan=False),  # jitter
    ),
    st.sampled_from([0, 0, 0, 0, 1, 2]),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    draw_steps=st.lists(steps, min_size=2, max_size=80),
    start=st.sampled_from(STARTS),
    zone=st.sampled_from(ZONES),
    wraps=st.booleans(),
    cumulative=st.booleans(),
    seed=st.integers(0, 10_000),
    late=st.booleans(),
)
def test_uploads_in_any_order_folded_in_any_rounds_equal_the_reference(
    db, draw_steps, start, zone, wraps, cumulative, seed, late
):
    rng = random.Random(seed)
    rollover = ROLLOVER if wraps else None
    ts, value, rows = start, rng.uniform(0, ROLLOVER - 1), []
    for seconds, change, quality in draw_steps:
        ts += timedelta(seconds=seconds)
        value = rng.uniform(0, 1) if change == -1e9 else max(value + change, 0.0)
        if rollover is not None and value >= rollover:
            value -= rollover
        rows.append((ts, round(value, 6), quality))
    cuts = sorted(rng.sample(range(1, len(rows)), min(rng.randint(1, 8), len(rows) - 1)))
    batches = [rows[a:b] for a, b in zip([0, *cuts], [*cuts, len(rows)], strict=False)]
    if late:  # some uploads arrive after later ones were folded, and one is replayed
        rng.shuffle(batches)
        batches.append(batches[0])
    point = db.run(
        make_point(
            db,
            timezone=zone,
            rollover=rollover,
            cumulative=cumulative,
            unit="kilowatt-hours" if cumulative else "kilowatts",
        )
    )
    with counting_rebuilds() as rebuilds, counting_sql_folds() as sql_folds:
        for batch in batches:
            db.run(upload(db, point, batch))
            if rng.random() < 0.6:  # rounds of one or several uploads
                db.run(fold(db, claim=rng.choice([1, 2, 200])))
        db.run(fold(db))
    if not late:
        assert rebuilds == []  # in-order uploads never re-read folded rows
        if rows[0][2] < 2:  # (a point whose first readings are all bad has its summary start later: SQL)
            assert sql_folds == []  # and their rollups come from the summary fold's one read
    check(db, point, rows, zone, cumulative=cumulative, rollover=rollover)


def test_appended_minutes_over_many_rounds_are_never_rebuilt(db):
    start = datetime(2026, 3, 28, 21, 0, tzinfo=UTC)  # across Berlin's short day
    point = db.run(make_point(db, timezone="Europe/Berlin"))
    rows = minutes(start, 0, 299, value=lambda m: 500.0 + 0.25 * m)
    rows[37] = (rows[37][0], rows[37][1], 2)  # a bad reading: counted, skipped for consumption
    rows[120:] = [(ts, v - 400.0, q) for ts, v, q in rows[120:]]  # a counter reset at the start of a round
    with counting_rebuilds() as rebuilds, counting_sql_folds() as sql_folds:
        for first in range(0, 300, 20):
            db.run(upload(db, point, rows[first : first + 10]))
            db.run(upload(db, point, rows[first + 10 : first + 20]))
            db.run(fold(db))
    assert rebuilds == [] and sql_folds == []
    check(db, point, rows, "Europe/Berlin")


@contextmanager
def copied_tables():
    """Record the tables the fold COPYs rows into, in order."""
    calls = []

    async def spy(self, table_name, **kwargs):
        calls.append(table_name)
        return await real(self, table_name, **kwargs)

    real = asyncpg.Connection.copy_to_table
    with mock.patch.object(asyncpg.Connection, "copy_to_table", spy):
        yield calls


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "America/New_York"])
def test_rows_after_the_held_hour_and_day_are_copied_in_and_equal_the_reference(db, zone, caplog):
    """A held point's rows of hours after its newest hourly row, and of local days after the one holding its
    last folded reading, are copied into the rollups; the others are added by the upserts. An hour that a
    local day's start splits (Kolkata's midnight is 18:30 UTC) is written whole on one side."""
    require_built(energy_fold.native, "db/central/_fold.c")
    start = datetime(2026, 3, 29, 17, 0, tzinfo=UTC)
    point = db.run(make_point(db, timezone=zone))
    rows = minutes(start, 0, 50 * 60, value=lambda m: 100.0 + 0.5 * m)
    with copied_tables() as first:
        db.run(upload(db, point, rows[:75]))  # 17:00-18:14: a point without rollups, all copied in
        db.run(fold(db))
    assert {"rollup_hourly", "rollup_daily"} <= set(first) and "rollup_hourly_in" not in first
    with copied_tables() as second:
        db.run(upload(db, point, rows[75:]))  # 18:15 on, two days: the held hour and day are staged
        db.run(fold(db))
    assert {"rollup_hourly", "rollup_daily", "rollup_hourly_in", "rollup_daily_in"} <= set(second)
    assert "adding them by upsert instead" not in caplog.text  # no copied row existed
    check(db, point, rows, zone)


def test_a_copied_row_that_exists_after_all_is_added_by_upsert(db, caplog):
    """Should a row the fold takes for new exist (a writer it does not know of), the COPY is undone and the
    rows are added by the upserts: the round is folded, not failed on every retry."""
    require_built(energy_fold.native, "db/central/_fold.c")
    start = datetime(2026, 4, 6, 9, 0, tzinfo=UTC)
    point = db.run(make_point(db, timezone="UTC"))
    rows = minutes(start, 0, 4 * 60, value=lambda m: 100.0 + 0.5 * m)
    db.run(upload(db, point, rows[:90]))  # 09:00-10:29
    db.run(fold(db))
    real = RollupStream.held

    def one_hour_early(self, pid):
        hour, day = real(self, pid)
        return hour - 1, day - 1  # takes the held hour (10:00) and day for new

    with copied_tables() as tables, mock.patch.object(RollupStream, "held", one_hour_early):
        db.run(upload(db, point, rows[90:]))
        db.run(fold(db))
    assert "rollup_hourly" in tables and "rollup_hourly_in" in tables
    assert "adding them by upsert instead" in caplog.text
    check(db, point, rows, "UTC")


def test_a_late_reading_inside_a_folded_hour_rebuilds_it(db):
    start = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
    point = db.run(make_point(db))
    rows = minutes(start, 0, 90, value=lambda m: 100.0 + m)
    db.run(upload(db, point, [r for r in rows if r[0].minute != 30]))
    db.run(fold(db))
    late = [r for r in rows if r[0].minute == 30]
    with counting_rebuilds() as rebuilds:
        db.run(upload(db, point, late))
        db.run(fold(db))
    assert rebuilds == [[point]]
    check(db, point, rows, "UTC")


def test_a_reading_before_the_first_folded_one(db):
    start = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
    point = db.run(make_point(db, timezone="Asia/Kolkata"))
    rows = minutes(start, -600, 60, value=lambda m: 5000.0 + 2 * m)
    db.run(upload(db, point, rows[-61:]))
    db.run(fold(db))
    db.run(upload(db, point, rows[:1]))  # ten hours earlier, on another local day
    db.run(fold(db))
    check(db, point, [rows[0], *rows[-61:]], "Asia/Kolkata")


def test_a_rebuild_keeps_no_delta_of_a_queued_reading_on_the_hour(db):
    """A rebuild sees a queued reading on its last hour's end: that delta is left to the reading's fold."""
    start = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
    point = db.run(make_point(db))
    rows = minutes(start, 0, 70, value=lambda m: 10.0 * m)
    db.run(upload(db, point, rows[:46]))  # 10:00–10:45
    db.run(fold(db))
    late = (start + timedelta(minutes=30, seconds=30), 305.0, 0)
    db.run(upload(db, point, [late]))  # rebuilt: the hour 10:00 counts what is stored by then …
    db.run(upload(db, point, rows[46:60]))  # … 10:46–10:59, queued,
    db.run(upload(db, point, rows[60:]))  # and 11:00–11:10, whose delta from 10:59 is the hour 10:00's
    with counting_rebuilds() as rebuilds:
        db.run(fold(db, claim=1))
    assert rebuilds == [[point], [point]]  # the late reading, then 10:46–10:59 (already counted)
    check(db, point, [*rows, late], "UTC")


def test_instantaneous_points_count_gaps_across_rounds(db):
    start = datetime(2026, 5, 4, 23, 0, tzinfo=UTC)
    point = db.run(make_point(db, cumulative=False, unit="kilowatts", name="power_kw"))
    rows = minutes(start, 0, 20) + minutes(start, 65, 80) + minutes(start, 200, 210)
    for n in range(0, len(rows), 7):
        db.run(upload(db, point, rows[n : n + 7]))
        db.run(fold(db))
    check(db, point, rows, "UTC", cumulative=False)


def test_migration_refolds_each_points_newest_hour_before_queued_uploads(db, new_pg_database):
    url = new_pg_database()
    upgrade("central", url)
    own = Db(url)
    try:
        start = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
        point = own.run(make_point(own))
        rows = minutes(start, 0, 59, value=lambda m: 3.0 * m)
        own.run(upload(own, point, rows))
        own.run(fold(own))
        own.run(upload(own, point, minutes(start, 60, 70, value=lambda m: 3.0 * m)))  # queued at upgrade
        downgrade("central", url, "0003")
        upgrade("central", url)

        async def queued():
            async with session_scope(own.sessions) as session:
                return (
                    (await session.execute(select(RollupDirty.id).order_by(RollupDirty.id))).scalars().all()
                )

        ids = own.run(queued())
        assert len(ids) == 2 and ids[0] < 0 < ids[1]
        own.run(fold(own, claim=1))
        check(own, point, minutes(start, 0, 70, value=lambda m: 3.0 * m), "UTC")
    finally:
        own.close()


def test_the_migration_queues_nothing_without_rollups(db, new_pg_database):
    url = new_pg_database()
    upgrade("central", url)
    own = Db(url)
    try:

        async def queued():
            async with session_scope(own.sessions) as session:
                points = await session.scalar(select(text("count(*)")).select_from(DataPoint).join(Meter))
                return points, await session.scalar(select(text("count(*)")).select_from(RollupDirty))

        assert own.run(queued()) == (0, 0)
    finally:
        own.close()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    draw_steps=st.lists(steps, min_size=2, max_size=80),
    start=st.sampled_from(STARTS),
    zone=st.sampled_from(ZONES),
    cumulative=st.booleans(),
    seed=st.integers(0, 10_000),
)
def test_the_one_pass_stores_what_the_sql_append_stores(db, draw_steps, start, zone, cumulative, seed):
    """Two points with the same readings, uploads and rounds: one folded by the one pass, one by the SQL append."""
    rng = random.Random(seed)
    ts, value, rows = start, rng.uniform(0, ROLLOVER - 1), []
    for seconds, change, quality in draw_steps:
        ts += timedelta(seconds=seconds)
        value = rng.uniform(0, 1) if change == -1e9 else max(value + change, 0.0)
        rows.append((ts, round(value, 6), quality))
    cuts = sorted(rng.sample(range(1, len(rows)), min(rng.randint(1, 8), len(rows) - 1)))
    batches = [rows[a:b] for a, b in zip([0, *cuts], [*cuts, len(rows)], strict=False)]
    unit = "kilowatt-hours" if cumulative else "kilowatts"
    one, sql = (db.run(make_point(db, timezone=zone, cumulative=cumulative, unit=unit)) for _ in range(2))
    real = rollup_queue.held_lasts

    async def without_sql_point(conn, spans):
        held, bare = await real(conn, spans)
        return Held({pid: last for pid, last in held.items() if pid != sql}, bare - {sql})

    with mock.patch.object(rollup_queue, "held_lasts", without_sql_point):
        for batch in batches:
            db.run(upload(db, one, batch))
            db.run(upload(db, sql, batch))
            if rng.random() < 0.6:
                db.run(fold(db, claim=rng.choice([2, 4, 200])))
        db.run(fold(db))
    (h1, d1), (h2, d2) = db.run(rollups(db, one)), db.run(rollups(db, sql))
    for mine, theirs in ((h1, h2), (d1, d2)):
        assert set(mine) == set(theirs)
        for key, row in mine.items():
            for name, got in _stats(row).items():
                want = theirs[key][name]
                if isinstance(got, float) and isinstance(want, float):  # the order of float sums may differ
                    assert abs(got - want) <= 1e-12 * max(1.0, abs(want)), (key, name, got, want)
                else:
                    assert got == want, (key, name, got, want)


def test_a_fold_that_fails_half_way_changes_nothing_and_loses_nothing(db):
    """A crash between ingest and fold, or inside the fold: the queue and the stored rows stay as they were."""
    start = datetime(2026, 5, 6, 22, 0, tzinfo=UTC)
    point = db.run(make_point(db, timezone="Europe/Berlin"))
    rows = minutes(start, 0, 179, value=lambda m: 10.0 + 0.5 * m)
    db.run(upload(db, point, rows[:60]))
    db.run(fold(db))
    db.run(upload(db, point, rows[60:120]))
    db.run(upload(db, point, rows[120:]))
    before = db.run(rollups(db, point))

    def broken(self, pid, lo, hi, window):
        raise RuntimeError("the worker died here")

    with mock.patch.object(rollup_queue.RollupStream, "visit", broken), pytest.raises(RuntimeError):
        db.run(fold(db))
    assert db.run(rollups(db, point)) == before

    async def queued():
        async with session_scope(db.sessions) as session:
            return await session.scalar(select(text("count(*)")).select_from(RollupDirty))

    assert db.run(queued()) >= 2
    db.run(fold(db))
    check(db, point, rows, "Europe/Berlin")


def test_a_replayed_batch_after_its_fold_counts_once(db):
    start = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
    point = db.run(make_point(db))
    rows = minutes(start, 0, 119, value=lambda m: 7.0 * m)
    db.run(upload(db, point, rows[:60]))
    db.run(upload(db, point, rows[60:]))
    db.run(fold(db))
    with counting_sql_folds() as sql_folds:
        db.run(upload(db, point, rows[60:]))  # the edge sends its newest batch again: all duplicates
        db.run(fold(db))
    assert sql_folds == [[point]]  # not after the folded readings: rebuilt from raw rows, not added again
    check(db, point, rows, "UTC")


async def _workers_until_folded(db: Db, workers: int) -> None:
    """Run API rollup workers side by side until the queue is empty (10 s at most)."""
    tasks = [
        asyncio.create_task(rollup_worker.run_rollup_worker(db.sessions, interval=0.02))
        for _ in range(workers)
    ]
    try:
        for _ in range(500):
            async with session_scope(db.sessions) as session:
                if not await pending(session):
                    return
            await asyncio.sleep(0.02)
        raise AssertionError("the workers left the queue unfolded")
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def test_workers_folding_parts_at_once_equal_the_reference(db):
    # a backlog of every part (8 points, 2 per part at least), folded by two workers in small rounds
    start = datetime(2026, 3, 28, 21, 0, tzinfo=UTC)  # across Berlin's short day
    zones = [ZONES[n % len(ZONES)] for n in range(8)]
    points = [db.run(make_point(db, timezone=zone)) for zone in zones]
    assert {point % ROLLUP_PARTS for point in points} == set(range(ROLLUP_PARTS))
    histories = {p: minutes(start, 0, 239, value=lambda m, p=p: 100.0 * p + 0.5 * m) for p in points}
    late = points[3]
    for first in range(0, 240, 20):
        for point in points:
            if point != late or first != 40:
                db.run(upload(db, point, histories[point][first : first + 20]))
    db.run(upload(db, late, histories[late][40:60]))  # after its later minutes: a rebuild, while others fold
    with (
        mock.patch.object(rollup_queue, "CLAIM_ROWS", 3),
        mock.patch.object(rollup_queue, "ENOUGH_READINGS", 2),
    ):
        db.run(_workers_until_folded(db, workers=2))
    for point, zone in zip(points, zones, strict=True):
        check(db, point, histories[point], zone)


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata"])  # days from hours, and days from raw rows
def test_usable_neighbours_beyond_the_near_search_are_found(db, zone):
    # The SQL append and the rebuilds look for a point's usable reading before a time in the last 31 days
    # first (monthly partitions), then further back; here only a bad reading lies within those 31 days
    start = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
    far = (start - timedelta(days=45), 100.0, 0)
    bad = (start - timedelta(days=10), 5_000.0, 2)
    rows = minutes(start, 0, 60, value=lambda m: 200.0 + m)

    rebuilt = db.run(make_point(db, timezone=zone))
    for batch in ([far], [bad], rows):
        db.run(upload(db, rebuilt, batch))
        db.run(fold(db))
    late = (start - timedelta(days=5), 150.0, 0)
    with counting_rebuilds() as rebuilds:
        db.run(upload(db, rebuilt, [late]))  # the rebuild from its hour finds `far` before it
        db.run(fold(db))
    assert rebuilds == [[rebuilt]]
    check(db, rebuilt, [far, bad, late, *rows], zone)

    appended = db.run(make_point(db, timezone=zone))
    for batch in ([far], [bad]):
        db.run(upload(db, appended, batch))
        db.run(fold(db))
    older = (start - timedelta(days=42), 120.0, 0)  # 32 days before the last folded reading, `bad`
    tail = [(rows[0][0], rows[0][1], 2), *rows[1:]]  # the first new reading is bad too
    with counting_rebuilds() as rebuilds, counting_sql_folds() as sql_folds:
        db.run(upload(db, appended, [older]))
        db.run(upload(db, appended, tail))  # one round: rebuilt up to `bad`, then appended after it
        db.run(fold(db))
    assert sql_folds == [[appended]] and rebuilds == [[appended]]
    check(db, appended, [far, older, bad, *tail], zone)


def test_instantaneous_points_find_a_usable_neighbour_beyond_the_near_search(db):
    # gaps of instantaneous points count from the usable reading before the new ones, which the fold looks
    # for in the last 31 days first: after a bad last reading, and after a bad first new one
    start = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
    kw = {"cumulative": False, "unit": "kilowatts", "name": "power_kw"}
    far = (start - timedelta(days=45), 10.0, 0)

    after_bad = db.run(make_point(db, **kw))  # the last folded reading is bad, the usable one 35 days older
    rows = [far, (start - timedelta(days=10), 50.0, 2), *minutes(start, 0, 5)]
    for batch in ([far], rows[1:2], rows[2:]):
        db.run(upload(db, after_bad, batch))
        db.run(fold(db))
    check(db, after_bad, rows, "UTC", cumulative=False)

    bad_first = db.run(make_point(db, **kw))  # a bad reading, then a usable one, 40 days after the last
    later = start - timedelta(days=5)
    rows = [far, (later, 50.0, 2), *minutes(later, 1, 5)]
    for batch in ([far], rows[1:]):
        db.run(upload(db, bad_first, batch))
        db.run(fold(db))
    check(db, bad_first, rows, "UTC", cumulative=False)


SPACINGS = st.sampled_from([60, 3600, 20 * 86400, 40 * 86400])  # seconds: a minute to beyond the near search


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    gaps=st.lists(st.tuples(SPACINGS, st.sampled_from([0, 0, 2])), min_size=3, max_size=30),
    zone=st.sampled_from(["UTC", "Asia/Kolkata"]),
    seed=st.integers(0, 10_000),
)
def test_readings_months_apart_in_any_order_equal_the_reference(db, gaps, zone, seed):
    rng = random.Random(seed)
    ts, value, rows = datetime(2025, 1, 1, tzinfo=UTC), 100.0, []
    for seconds, quality in gaps:
        ts += timedelta(seconds=seconds)
        value += rng.uniform(0, 50)
        rows.append((ts, round(value, 3), quality))
    cuts = sorted(rng.sample(range(1, len(rows)), min(rng.randint(1, 6), len(rows) - 1)))
    batches = [rows[a:b] for a, b in zip([0, *cuts], [*cuts, len(rows)], strict=False)]
    rng.shuffle(batches)
    point = db.run(make_point(db, timezone=zone))
    for batch in batches:
        db.run(upload(db, point, batch))
        if rng.random() < 0.6:
            db.run(fold(db, claim=rng.choice([1, 2, 200])))
    db.run(fold(db))
    check(db, point, rows, zone)
