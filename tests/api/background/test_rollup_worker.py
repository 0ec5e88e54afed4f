"""The API's fold worker: a live queue settles before it is folded, a claim's worth is folded at once."""

import asyncio
import contextlib
import uuid
from datetime import timedelta
from unittest import mock

import pytest
from sqlalchemy import func, select

from api.background import rollup_worker
from db.central.ingest.batch import ingest_batch
from db.central.rollups import queue as rollup_queue
from db.central.rollups.models import RollupDirty
from db.central.rollups.queue import flush_rollups
from db.clock import utcnow
from db.engine import session_scope
from db.migrate import upgrade
from tests.support.rollups import new_site, private_engine

METER = f"w-{uuid.uuid4().hex[:8]}"  # db.central.points caches names per process, not per database


@pytest.fixture
def private_url(new_pg_database) -> str:
    """A migrated central database of this test alone (no API server's worker folds its queue)."""
    url = new_pg_database()
    upgrade("central", url)
    return url


@contextlib.asynccontextmanager
async def _sessions(url: str):
    async with private_engine(url, 2) as (_, sessions):
        yield sessions


async def _queue_an_upload(sessions) -> None:
    """One upload of 90 readings of one point: one queued row."""
    site_id = await new_site(sessions)
    start = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    items = [
        {"meter_external_id": METER, "data_point": "total_kwh", "unit": "kWh", "value": 100.0 + m,
         "timestamp": (start + timedelta(minutes=m)).isoformat()}
        for m in range(90)
    ]  # fmt: skip
    async with session_scope(sessions) as session:
        await ingest_batch(session, site_id, uuid.uuid4().hex, items)


async def _queued(sessions) -> int:
    async with session_scope(sessions) as session:
        return int(await session.scalar(select(func.count()).select_from(RollupDirty)))


async def _watch_worker(sessions, *, settle: float, until, interval: float = 0.01, before_look=None) -> list:
    """Run the worker until `until(events)` holds (10 s at most); its events in order: ("look", rows waiting)
    for each look at the queue, ("fold",) for each round it starts. before_look(n) runs before look n (from 1)."""
    events = []
    real_look, real_round = rollup_worker.queue_look, rollup_worker.fold_round

    async def look(session):
        if before_look is not None:
            await before_look(sum(1 for event in events if event[0] == "look") + 1)
        found = await real_look(session)
        events.append(("look", found[0]))
        return found

    async def round_(session, parts):
        events.append(("fold",))
        return await real_round(session, parts)

    with (
        mock.patch.object(rollup_worker, "queue_look", look),
        mock.patch.object(rollup_worker, "fold_round", round_),
    ):
        worker = asyncio.create_task(
            rollup_worker.run_rollup_worker(sessions, interval=interval, settle=settle)
        )
        try:
            for _ in range(1000):  # bounded: 10 s at most
                if until(events) or worker.done():
                    break
                await asyncio.sleep(0.01)
        finally:
            worker.cancel()
            await asyncio.gather(worker, return_exceptions=True)
    return events


def _folded(events: list) -> bool:
    """Whether a round started and the worker looked at the queue again after it (the round committed)."""
    return ("fold",) in events and events[-1][0] == "look" and events.index(("fold",)) < len(events) - 1


def _looks_before_first_fold(events: list) -> list[int]:
    first = events.index(("fold",))
    return [event[1] for event in events[:first]]


async def test_a_live_queue_is_folded_after_settling_for_its_looks(private_url):
    async with _sessions(private_url) as sessions:
        await _queue_an_upload(sessions)
        events = await _watch_worker(sessions, settle=0.05, until=_folded)
        # settle / interval = 5 looks apart, and the first look that found the row: the sixth folds
        assert _looks_before_first_fold(events) == [1] * 6
        assert await _queued(sessions) == 0


async def test_a_live_queue_waits_while_it_settles(private_url):
    async with _sessions(private_url) as sessions:
        await _queue_an_upload(sessions)
        events = await _watch_worker(sessions, settle=3600, until=lambda events: len(events) >= 30)
        assert len(events) >= 30 and ("fold",) not in events
        assert set(events) == {("look", 1)}
        assert await _queued(sessions) == 1


async def test_a_queue_holding_a_claims_worth_is_folded_at_the_first_look(private_url):
    async with _sessions(private_url) as sessions:
        # 90 readings, carried (without the C module the row counts as UNCARRIED_READINGS)
        await _queue_an_upload(sessions)
        with mock.patch.object(rollup_queue, "CLAIM_READINGS", 60):
            events = await _watch_worker(sessions, settle=3600, until=_folded)
        assert _looks_before_first_fold(events) == [1]
        assert await _queued(sessions) == 0


async def test_settle_zero_folds_at_every_look_that_finds_rows(private_url):
    async with _sessions(private_url) as sessions:
        await _queue_an_upload(sessions)
        events = await _watch_worker(sessions, settle=0, until=_folded)
        assert _looks_before_first_fold(events) == [1]


async def test_a_fold_by_another_worker_starts_the_count_again(private_url):
    """Another API process's worker folds the queue while this one counts its looks, and a new upload arrives:
    this worker's count starts again at the new oldest row, instead of folding the newcomer at once."""
    async with _sessions(private_url) as sessions:
        await _queue_an_upload(sessions)

        async def other_worker_folds(look: int) -> None:
            if look == 3:
                assert await flush_rollups(sessions) == 1
                await _queue_an_upload(sessions)

        events = await _watch_worker(sessions, settle=0.05, until=_folded, before_look=other_worker_folds)
        # looks 1-2 found the first row; looks 3-8 the second one: the sixth of those folds
        assert _looks_before_first_fold(events) == [1] * 8
        assert await _queued(sessions) == 0
