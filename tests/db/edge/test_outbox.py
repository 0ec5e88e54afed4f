"""The outbox on SQLite and PostgreSQL: order, acknowledgement, dead letters, cap policies, SIGKILL durability."""

import asyncio
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from db.edge.outbox import Outbox, OutboxFull, Reading
from db.edge.store import list_dead_letters, recent_readings
from db.migrate import upgrade
from tests.edge_agent.conftest import make_edge_db
from tests.support.central_server import REPO_ROOT

T0 = datetime(2026, 3, 1, tzinfo=UTC)  # readings' own times: the outbox keeps them as they are, on any date


def readings(n: int, meter: str = "m1", start: int = 0) -> list[Reading]:
    """n readings of one point, one second apart."""
    return [
        Reading(meter, "total_kwh", T0 + timedelta(seconds=start + i), float(start + i), "kWh", 0)
        for i in range(n)
    ]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def edge_url(request, tmp_path):
    """An empty edge database URL on each dialect."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/edge.db"
    return request.getfixturevalue("new_pg_database")()


@pytest.fixture
async def engine(edge_url):
    """A migrated edge database on each dialect."""
    engine = await make_edge_db(edge_url)
    yield engine
    await engine.dispose()


async def test_fifo_ack_and_dead_letters(engine):
    outbox = Outbox(engine)
    await outbox.open()
    await outbox.add(readings(10))
    assert await outbox.depth() == 10
    head = await outbox.peek(4)
    assert [q.reading.value for q in head] == [0.0, 1.0, 2.0, 3.0]
    await outbox.ack([q.id for q in head[:3]], dead=[(head[3], "value out of range")])
    assert await outbox.depth() == 6
    assert [q.reading.value for q in await outbox.peek(2)] == [4.0, 5.0]
    dead = await list_dead_letters(engine)
    assert [(d.value, d.reason) for d in dead] == [(3.0, "value out of range")]
    # Recent readings keep everything collected, acknowledged or not.
    assert len(await recent_readings(engine, "m1", since=T0)) == 10


async def test_recollected_instant_is_not_queued_twice(engine):
    outbox = Outbox(engine)
    await outbox.add(readings(5))
    await outbox.add(readings(5))
    assert await outbox.depth() == 5


async def test_cap_stop_collecting_refuses_loudly(engine, caplog):
    outbox = Outbox(engine, max_readings=1000, policy="stop_collecting")
    await outbox.add(readings(1000))
    with pytest.raises(OutboxFull):
        await outbox.add(readings(1, start=5000))
    assert outbox.full is True
    assert "OUTBOX FULL" in caplog.text
    assert await outbox.depth() == 1000
    await outbox.ack([q.id for q in await outbox.peek(10)])
    assert outbox.full is False
    await outbox.add(readings(1, start=5000))


async def test_cap_drop_oldest_keeps_the_newest(engine, caplog):
    outbox = Outbox(engine, max_readings=1000, policy="drop_oldest")
    await outbox.add(readings(1000))
    result = await outbox.add(readings(10, start=5000))
    assert result.dropped_oldest == 10
    assert outbox.full is True and "drop_oldest" in caplog.text
    assert await outbox.depth() == 1000
    assert (await outbox.peek(1))[0].reading.value == 10.0


async def test_oldest_age_is_known(engine, hand_clock):
    outbox = Outbox(engine)
    assert await outbox.oldest_age_seconds() is None
    await outbox.add(readings(3))
    hand_clock.advance(90)
    await outbox.add(readings(3, start=3))
    assert await outbox.oldest_age_seconds() == 90


async def test_outbox_survives_sigkill_of_the_writer(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path}/edge.db"
    await asyncio.to_thread(upgrade, "edge", url)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    writer = subprocess.Popen(
        [sys.executable, "-m", "tests.db.edge.outbox_writer", url],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO_ROOT,
    )
    reported = 0
    try:
        while reported < 3000:
            line = await asyncio.wait_for(asyncio.to_thread(writer.stdout.readline), 30)
            assert line, "writer exited early"
            reported = int(line)
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(10)
    engine = await make_edge_db(url)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA integrity_check"))).scalar_one() == "ok"
        depth = await Outbox(engine).depth()
        # Everything reported durable is there; a batch is all or nothing.
        assert depth >= reported and depth % 100 == 0
        values = sorted(q.reading.value for q in await Outbox(engine).peek(depth))
        assert values == [float(v) for v in range(depth)]
    finally:
        await engine.dispose()
