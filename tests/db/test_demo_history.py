"""The demo's simulated history: bounded, continuous with the simulator's register, marked, queued at the edge."""

import asyncio
from datetime import timedelta

from db.clock import utcnow
from db.edge.outbox import Outbox
from db.engine import make_engine
from db.migrate import upgrade
from meterit.demo_history import (
    ENERGY_POINT,
    POWER_POINT,
    SIMULATED_QUALITY,
    history,
    history_size,
    queue_history,
)


def test_history_is_bounded_continuous_and_marked():
    end = utcnow()
    readings = history(["meter-001", "meter-002"], end, energy_end=100_000.0, days=30)
    assert len(readings) == 2 * 2 * 30 * 96 == history_size(2, 30)  # meters × points × days × quarter hours
    assert {r.quality for r in readings} == {SIMULATED_QUALITY}
    assert min(r.ts for r in readings) >= end - timedelta(days=30) and max(r.ts for r in readings) < end
    energy = [
        r.value for r in readings if r.meter_external_id == "meter-001" and r.data_point == ENERGY_POINT
    ]
    assert energy == sorted(energy) and 99_000 < energy[-1] <= 100_000.0  # the live register continues it
    power = [r.value for r in readings if r.data_point == POWER_POINT]
    assert 10 < min(power) < max(power) < 70  # a daily curve around the simulator's 40 kW


def test_history_lands_in_the_edge_outbox(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'edge.db'}"
    upgrade("edge", url)
    count = asyncio.run(queue_history(url, ["meter-001"], utcnow(), 5_000.0, days=2))

    async def depth() -> int:
        engine = make_engine(url, pool_size=1)
        try:
            return await Outbox(engine).depth()
        finally:
            await engine.dispose()

    assert count == 2 * 2 * 96 and asyncio.run(depth()) == count


def test_the_histories_span_is_recorded_at_the_edge_for_its_heartbeat(tmp_path):
    from edge_agent.site_sync import simulated_history

    url = f"sqlite+aiosqlite:///{tmp_path / 'edge.db'}"
    upgrade("edge", url)
    end = utcnow()
    asyncio.run(queue_history(url, ["meter-001"], end, 5_000.0, days=2))

    async def span() -> dict | None:
        engine = make_engine(url, pool_size=1)
        try:
            return await simulated_history(engine)
        finally:
            await engine.dispose()

    readings = history(["meter-001"], end, 5_000.0, days=2)
    assert asyncio.run(span()) == {
        "start": min(r.ts for r in readings).isoformat(),
        "end": max(r.ts for r in readings).isoformat(),
    }
