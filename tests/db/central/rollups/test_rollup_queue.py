"""Deferred folds: uploads queue their ranges in rollup_dirty; the worker or flush_rollups folds them into the summary."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from sqlalchemy import func, select

from api.background.rollup_worker import run_rollup_worker
from db.central.energy_summary_models import EnergyQuarter
from db.central.ingest import batch
from db.central.ingest.batch import ingest_batch
from db.central.ingest.spans import MicrosecondSpans
from db.central.models import DataPoint, Meter
from db.central.rollups import queue as rollup_queue
from db.central.rollups.models import RollupDirty
from db.central.rollups.queue import (
    ALL_PARTS,
    ROLLUP_PARTS,
    _ts,
    _us,
    flush_rollups,
    fold_round,
    is_backlog,
    pending,
    process_once,
    queue_state,
    queued_readings,
    whole_spans,
)
from db.engine import session_scope
from db.migrate import upgrade
from tests.support.energy import FOLD_FORMS, fold_form
from tests.support.native import require_built
from tests.support.rollups import new_site as _site
from tests.support.rollups import private_engine as _private_engine

HOUR = timedelta(hours=1)


def test_a_points_claimed_ranges_make_one_span_however_far_apart():
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    spans = [
        [_us(t0), _us(t0 + HOUR), [1, 2]],
        [_us(t0 + 2 * HOUR), _us(t0 + 3 * HOUR), [1]],
        [_us(t0 + 48 * HOUR), _us(t0 + 49 * HOUR), [2]],  # a backlog far away: still one span
        [_us(t0 - HOUR), _us(t0), [3]],
    ]
    assert whole_spans(spans) == {1: (t0, t0 + 3 * HOUR), 2: (t0, t0 + 49 * HOUR), 3: (t0 - HOUR, t0)}
    assert _ts(_us(t0 + timedelta(microseconds=7))) == t0 + timedelta(microseconds=7)


@pytest.fixture
def private_url(new_pg_database) -> str:
    """A migrated central database of this test alone (no API server's worker drains its queue)."""
    url = new_pg_database()
    upgrade("central", url)
    return url


# db.central.points caches (site id, meter, point) per process, not per database: a fresh database's site 1 must not
# reuse names another test's site 1 has cached
METER = f"q-{uuid.uuid4().hex[:8]}"


def _items(start: datetime, minutes: range) -> list[dict]:
    return [
        {
            "meter_external_id": METER,
            "data_point": "total_kwh",
            "timestamp": (start + timedelta(minutes=m)).isoformat(),
            "value": 100.0 + m,
            "unit": "kWh",
        }
        for m in minutes
    ]


async def _folded_counts(sessions, site_id: int) -> list[int]:
    """Readings the summary's stored quarters count per point and UTC hour, by hour: what the folds wrote
    (the quarter of a point's newest usable reading is read raw, never stored)."""
    hour = func.date_trunc("hour", EnergyQuarter.q)
    async with session_scope(sessions) as session:
        rows = await session.scalars(
            select(func.sum(EnergyQuarter.count))
            .join(DataPoint, DataPoint.id == EnergyQuarter.point_id)
            .join(Meter, Meter.id == DataPoint.meter_id)
            .where(Meter.site_id == site_id)
            .group_by(EnergyQuarter.point_id, hour)
            .order_by(hour)
        )
        return [int(n) for n in rows]


async def _upload_to_every_part(sessions, site_id: int, start: datetime, hours: int) -> None:
    """Uploads of an hour each (a reading a minute) for a point in every rollup part: a queued row per part each."""
    for hour in range(hours):
        items = [
            {**item, "data_point": f"kwh_{n}"}
            for n in range(ROLLUP_PARTS)
            for item in _items(start, range(60 * hour, 60 * hour + 60))
        ]
        async with session_scope(sessions) as session:
            await ingest_batch(session, site_id, uuid.uuid4().hex, items)


async def _queued(sessions) -> int:
    async with session_scope(sessions) as session:
        return int(await session.scalar(select(func.count()).select_from(RollupDirty)))


async def test_uploads_queue_ranges_until_flushed_then_the_worker_keeps_up(private_url, dated_clock):
    async with _private_engine(private_url, 2) as (engine, sessions):
        site_id = await _site(sessions)
        start = dated_clock.now().replace(minute=0, second=0, microsecond=0) - 3 * HOUR
        async with session_scope(sessions) as session:
            await ingest_batch(session, site_id, uuid.uuid4().hex, _items(start, range(90)))
        assert await _queued(sessions) == 1
        assert await _folded_counts(sessions, site_id) == []  # deferred: nothing folded in the upload
        assert await flush_rollups(engine) == 1
        assert await _queued(sessions) == 0
        assert await _folded_counts(sessions, site_id) == [60, 15]  # up to the newest reading's quarter, :75

        async with session_scope(sessions) as session:  # a late reading, folded in by the worker
            await ingest_batch(session, site_id, uuid.uuid4().hex, _items(start, range(90, 120)))
        worker = asyncio.create_task(run_rollup_worker(sessions, interval=0.05, settle=0))
        try:
            for _ in range(200):  # bounded: 10 s at most
                async with session_scope(sessions) as session:
                    if not await pending(session):
                        break
                await asyncio.sleep(0.05)
        finally:
            worker.cancel()
            await asyncio.gather(worker, return_exceptions=True)
        assert await _queued(sessions) == 0
        assert await _folded_counts(sessions, site_id) == [60, 45]


async def test_parts_hold_their_own_points_and_fold_at_once(private_url, dated_clock):
    async with _private_engine(private_url, ROLLUP_PARTS + 2) as (engine, sessions):
        site_id = await _site(sessions)
        start = dated_clock.now().replace(minute=0, second=0, microsecond=0) - 3 * HOUR
        items = [
            {**item, "data_point": f"kwh_{n}"}
            for n in range(2 * ROLLUP_PARTS)
            for item in _items(start, range(90))
        ]
        async with session_scope(sessions) as session:
            await ingest_batch(session, site_id, uuid.uuid4().hex, items)
        async with session_scope(sessions) as session:
            rows = (await session.execute(select(RollupDirty.part, RollupDirty.spans))).all()
        assert sorted(part for part, _ in rows) == list(ALL_PARTS)  # one row per part
        for part, spans in rows:
            pids = [pid for _, _, span_pids in spans for pid in span_pids]
            assert len(pids) == 2 and all(pid % ROLLUP_PARTS == part for pid in pids)

        # a worker folding part 1 (transaction still open) does not hold up part 2; another worker skips part 1
        async with session_scope(sessions) as holding:
            assert await process_once(holding, (1,)) == 1
            async with session_scope(sessions) as other:
                assert await asyncio.wait_for(process_once(other, (2,)), 10) == 1
            async with session_scope(sessions) as other:
                assert await process_once(other, (1,)) == 0
        assert await flush_rollups(engine) == ROLLUP_PARTS - 2  # parts 0 and 3
        assert await _queued(sessions) == 0
        counts = sorted(await _folded_counts(sessions, site_id))
        assert counts == [15] * 2 * ROLLUP_PARTS + [60] * 2 * ROLLUP_PARTS  # each point's tail quarter: raw


async def test_a_short_queue_folds_in_one_round_and_a_backlog_leaves_parts_to_others(
    private_url, dated_clock
):
    async with _private_engine(private_url, 4) as (engine, sessions):
        site_id = await _site(sessions)
        start = dated_clock.now().replace(minute=0, second=0, microsecond=0) - 5 * HOUR
        await _upload_to_every_part(sessions, site_id, start, 3)  # three uploads, a row per part each
        assert await _queued(sessions) == 3 * ROLLUP_PARTS
        async with session_scope(sessions) as session:  # a backlog (enough = 2): part 2's rows alone
            assert await process_once(session, (2, 3, 0, 1), enough=2) == 3
        async with session_scope(sessions) as session:
            left = sorted((await session.scalars(select(RollupDirty.part))).all())
        assert left == [0] * 3 + [1] * 3 + [3] * 3
        async with session_scope(sessions) as session:  # a short queue: every part in one transaction
            assert await process_once(session) == 3 * (ROLLUP_PARTS - 1)
        assert await _queued(sessions) == 0
        last_hours = [45] * ROLLUP_PARTS  # each point's tail quarter is read raw
        assert sorted(await _folded_counts(sessions, site_id)) == last_hours + [60] * 2 * ROLLUP_PARTS


async def test_many_small_uploads_fold_in_one_round_and_a_part_with_enough_readings_alone(
    private_url, dated_clock
):
    """A backlog is counted in queued readings, not queue rows: twenty small uploads (a row per part each,
    once a backlog) are one round over every part; a part holding `enough` readings is folded alone."""
    require_built(batch.native_rows, "db/central/ingest/_rows.c")  # readings are counted from carried rows
    async with _private_engine(private_url, 4) as (engine, sessions):
        site_id = await _site(sessions)
        start = dated_clock.now().replace(minute=0, second=0, microsecond=0) - 24 * HOUR
        await _upload_to_every_part(sessions, site_id, start, 20)  # 60 readings a row, 20 rows a part
        async with session_scope(sessions) as session:
            blobs = (await session.scalars(select(RollupDirty.carried))).all()
            assert queued_readings(blobs) == 20 * ROLLUP_PARTS * 60  # a point per part: 12 bytes more
            assert not await is_backlog(session)
        async with session_scope(sessions) as session:
            assert await fold_round(session, (2, 3, 0, 1)) == (20 * ROLLUP_PARTS, False, False)
        assert await _queued(sessions) == 0
        await _upload_to_every_part(sessions, site_id, start + 20 * HOUR, 3)
        async with session_scope(sessions) as session:
            assert await fold_round(session, (2, 3, 0, 1), enough=3 * 60) == (3, True, False)
        with mock.patch.object(rollup_queue, "ENOUGH_READINGS", 60):  # 2 * 60 readings per part remain
            async with session_scope(sessions) as session:
                assert await is_backlog(session)
        assert queued_readings([None, b"x" * 36]) == rollup_queue.UNCARRIED_READINGS + 2


async def test_a_round_claims_readings_up_to_its_budget(private_url, dated_clock):
    """A claim stops at the row that reaches CLAIM_READINGS queued readings (counted from carried rows) and
    says it was full; the next round takes the rest, and every reading is folded once."""
    require_built(batch.native_rows, "db/central/ingest/_rows.c")
    async with _private_engine(private_url, 4) as (engine, sessions):
        site_id = await _site(sessions)
        start = dated_clock.now().replace(minute=0, second=0, microsecond=0) - 12 * HOUR
        await _upload_to_every_part(sessions, site_id, start, 5)  # 60 readings a row, 5 rows a part
        with mock.patch.object(rollup_queue, "CLAIM_READINGS", 150):
            async with session_scope(sessions) as session:  # rows with 0, 60 and 120 readings before them
                assert await fold_round(session, (1,)) == (3, False, True)
            async with session_scope(sessions) as session:
                assert await fold_round(session, (1,)) == (2, False, False)
        assert await flush_rollups(engine) == 5 * (ROLLUP_PARTS - 1)
        assert await _queued(sessions) == 0
        assert (
            sorted(await _folded_counts(sessions, site_id)) == [45] * ROLLUP_PARTS + [60] * 4 * ROLLUP_PARTS
        )


@pytest.mark.parametrize("form", FOLD_FORMS)
async def test_folds_one_after_another_in_one_transaction_add_each_reading_once(
    private_url, hand_clock, form
):
    # each fold extends the state the one before left in the same transaction (db/central/energy_summary.py)
    with fold_form(form):
        async with _private_engine(private_url, 2) as (engine, sessions):
            site_id = await _site(sessions)
            start = hand_clock.now().replace(minute=0, second=0, microsecond=0) - 5 * HOUR
            await _upload_to_every_part(sessions, site_id, start, 2)
            async with session_scope(sessions) as session:
                for part in ALL_PARTS:
                    assert await process_once(session, (part,), skip_locked=False) == 2
            assert await _queued(sessions) == 0
            assert (
                sorted(await _folded_counts(sessions, site_id)) == [45] * ROLLUP_PARTS + [60] * ROLLUP_PARTS
            )


async def test_the_queue_reports_the_age_of_its_oldest_range(private_url, hand_clock):
    # steady uploads folded within seconds keep the age small; "time since last seen empty" grew without end
    async with _private_engine(private_url, 2) as (engine, sessions):
        site_id = await _site(sessions)
        start = hand_clock.now().replace(minute=0, second=0, microsecond=0) - 3 * HOUR
        async with session_scope(sessions) as session:
            assert await queue_state(session) == (0, 0.0)
            await ingest_batch(session, site_id, uuid.uuid4().hex, _items(start, range(30)))
        hand_clock.advance(30)
        async with session_scope(sessions) as session:
            await ingest_batch(session, site_id, uuid.uuid4().hex, _items(start, range(30, 60)))
        hand_clock.advance(15)
        async with session_scope(sessions) as session:
            assert await queue_state(session) == (2, 45.0)
        await flush_rollups(engine)
        async with session_scope(sessions) as session:
            assert await queue_state(session) == (0, 0.0)


def test_queue_rows_from_microsecond_spans_equal_those_from_datetimes():
    """The C decoder's spans stay in microseconds (db/central/ingest/spans.py); the queue rows are the same."""
    start = datetime(2026, 5, 4, 10, 0, 1, 250, tzinfo=UTC)
    touched = {pid: (start, start + timedelta(minutes=pid % 3)) for pid in range(100, 140)}
    micros = MicrosecondSpans(
        {pid: tuple(rollup_queue._us(ts) for ts in span) for pid, span in touched.items()}
    )
    assert dict(micros) == touched
    assert rollup_queue.queue_rows(micros, None) == rollup_queue.queue_rows(touched, None)
    parts, spans, _ = rollup_queue.queue_rows(micros, None)
    assert sorted(parts) == list(ALL_PARTS) and len(spans) == ROLLUP_PARTS
