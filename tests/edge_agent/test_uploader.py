"""The uploader against the real central API (subprocess, real PostgreSQL): success, outage, rejection, 401, 429."""

import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from db.clock import utcnow
from db.edge.outbox import Outbox, QueuedReading, Reading
from edge_agent.central import CentralClient
from edge_agent.uploader import Ack, Uploader, batch_id_for, prepare
from tests.edge_agent.central_support import new_site, stored_keys
from tests.edge_agent.conftest import make_edge_db
from tests.support.central_server import CentralServer

pytestmark = pytest.mark.postgres


@pytest.fixture
def central(edge_central):
    """The session's central server (a test that kills it starts it again)."""
    return edge_central


@pytest.fixture
async def site(central_pg_url):
    """A fresh site: (site id, key)."""
    return await new_site(central_pg_url)


@pytest.fixture
async def outbox(sqlite_url):
    """An outbox on a fresh SQLite edge database."""
    engine = await make_edge_db(sqlite_url)
    box = Outbox(engine)
    await box.open()
    yield box
    await engine.dispose()


def make_uploader(outbox: Outbox, url: str, key: str, **kwargs) -> Uploader:
    """An uploader with short backoff, for tests."""
    kwargs = {"batch_size": 200, "max_retries": 2, "backoff_base": 0.05, "backoff_cap": 0.2, **kwargs}
    return Uploader(outbox, lambda: CentralClient(url, key, timeout=10), **kwargs)


def readings(n: int, meter: str = "meter-001", start: datetime | None = None) -> list[Reading]:
    """n readings of two points, one second apart per point, ending about now."""
    start = start or utcnow().replace(microsecond=0) - timedelta(seconds=n)
    return [
        Reading(
            meter, ("total_kwh", "current_kw")[i % 2], start + timedelta(seconds=i // 2), 100.0 + i, "kWh", 0
        )
        for i in range(n)
    ]


def keys(items: list[Reading]) -> list[tuple]:
    """The identities of readings, as central stores them."""
    return sorted((r.meter_external_id, r.data_point, r.ts) for r in items)


async def test_upload_success_then_nothing_left(central, site, outbox, central_pg_url):
    site_id, key = site
    sent = readings(1000)
    await outbox.add(sent)
    uploader = make_uploader(outbox, central.url, key)
    result = await uploader.sync_once()
    assert result.outcome == "ok" and result.new == 1000 and result.acknowledged == 1000
    assert await outbox.depth() == 0
    assert uploader.state == "ok"
    assert sorted(await stored_keys(central_pg_url, site_id)) == keys(sent)


async def test_replayed_batch_after_a_crash_is_acknowledged_not_doubled(
    central, site, outbox, central_pg_url
):
    site_id, key = site
    await outbox.add(readings(50))
    rows = await outbox.peek(50)
    # The edge uploaded this batch, then died before deleting it from the outbox.
    async with CentralClient(central.url, key) as client:
        from edge_agent.uploader import to_wire

        first = await client.upload(batch_id_for(rows), [to_wire(r) for r in rows])
    assert first["new"] == 50
    result = await make_uploader(outbox, central.url, key).sync_once()
    assert result.outcome == "ok" and result.acknowledged == 50 and result.new == 50
    assert await outbox.depth() == 0
    assert len(await stored_keys(central_pg_url, site_id)) == 50


async def test_central_down_then_up_delivers_everything_once(central, site, outbox, central_pg_url):
    site_id, key = site
    uploader = make_uploader(outbox, central.url, key)
    first = readings(300, start=utcnow().replace(microsecond=0) - timedelta(minutes=20))
    await outbox.add(first)
    central.kill()
    try:
        result = await uploader.sync_once()
        assert result.outcome == "unreachable"
        assert uploader.state == "unreachable" and uploader.unreachable_seconds is not None
        second = readings(300, meter="meter-002")
        await outbox.add(second)  # collection goes on during the outage
        assert await outbox.depth() == 600
    finally:
        central.start()
    result = await uploader.sync_once()
    assert result.outcome == "ok" and result.acknowledged == 600
    assert uploader.state == "ok" and uploader.unreachable_seconds is None
    assert await outbox.depth() == 0
    stored = await stored_keys(central_pg_url, site_id)
    assert sorted(stored) == keys(first + second)  # every reading, none twice


async def test_rejected_reading_is_dead_lettered_and_does_not_block(central, site, outbox, central_pg_url):
    site_id, key = site
    good = readings(20)
    bad = Reading("meter-001", "total_kwh", datetime(1999, 6, 1, tzinfo=UTC), 1.0, "kWh", 0)
    await outbox.add(good[:10] + [bad] + good[10:])
    result = await make_uploader(outbox, central.url, key).sync_once()
    assert result.outcome == "ok" and result.rejected == 1 and result.new == 20
    assert await outbox.depth() == 0
    from db.edge.store import list_dead_letters

    dead = await list_dead_letters(outbox.engine)
    assert len(dead) == 1 and dead[0].ts.year == 1999 and "2000" in dead[0].reason
    assert sorted(await stored_keys(central_pg_url, site_id)) == keys(good)


async def test_unauthorized_stops_uploading_and_keeps_readings(central, outbox):
    await outbox.add(readings(10))
    uploader = make_uploader(outbox, central.url, "mk_wrong_key")
    result = await uploader.sync_once()
    assert result.outcome == "unauthorized"
    assert uploader.state == "unauthorized"
    assert (await uploader.sync_once()).outcome == "unauthorized"  # no retry storm until told
    assert await outbox.depth() == 10


async def test_rate_limited_honours_retry_after(central_pg_url, site, outbox, tmp_path):
    site_id, key = site
    await outbox.add(readings(100))
    server = CentralServer(
        central_pg_url, env={"RATE_LIMIT_PER_MINUTE": "3"}, log_path=tmp_path / "c.log", startup_timeout=120
    )
    server.start()
    try:
        uploader = make_uploader(outbox, server.url, key, batch_size=10, pipeline=1)
        result = await uploader.sync_once()
        assert result.outcome == "rate_limited" and result.acknowledged == 30
        assert uploader.state == "rate_limited"
        assert uploader.not_before > time.monotonic() + 30  # Retry-After of the moving minute window
        assert (await uploader.sync_once()).outcome == "rate_limited"  # waits; does not hammer central
        assert await outbox.depth() == 70
        assert len(await stored_keys(central_pg_url, site_id)) == 30
    finally:
        server.stop()


async def test_batches_over_centrals_limit_are_split_then_sent_at_its_size(
    central_pg_url, site, outbox, tmp_path
):
    site_id, key = site
    sent = readings(400)
    await outbox.add(sent)
    server = CentralServer(
        central_pg_url, env={"BATCH_SIZE": "60"}, log_path=tmp_path / "c.log", startup_timeout=120
    )
    server.start()
    try:
        uploader = make_uploader(outbox, server.url, key, batch_size=200, pipeline=1)
        result = await uploader.sync_once()
        assert result.outcome == "ok" and result.acknowledged == 400 and result.rejected == 0
        assert uploader.batch_size == 50  # 200 refused, 100 refused, 50 taken: the rest went 50 at a time
        assert await outbox.depth() == 0
        assert sorted(await stored_keys(central_pg_url, site_id)) == keys(sent)
    finally:
        server.stop()


def test_a_split_down_to_a_refused_reading_keeps_the_batch_size():
    uploader = Uploader(SimpleNamespace(engine=None), lambda: None, batch_size=200)  # type: ignore[arg-type]
    rows = [QueuedReading(i, r) for i, r in enumerate(readings(4))]
    halves = [prepare(rows[:2]), prepare(rows[2:3])]
    taken = [Ack(halves[0], {"new": 2}, [], utcnow()), Ack(halves[1], {"new": 1}, [], utcnow())]
    uploader._learn_limit(prepare(rows), [*taken, Ack(prepare(rows[3:]), None, [(rows[3], "bad")], utcnow())])
    assert uploader.batch_size == 200
    uploader._learn_limit(prepare(rows), taken)
    assert uploader.batch_size == 2
