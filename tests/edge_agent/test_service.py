"""EdgeAgent end to end: simulated meters → collector → outbox → real central; and its control API (block 43)."""

import asyncio
import json

import pytest

from edge_agent.errors import ConfigError
from edge_agent.meters import parse_meters, save_meters_file
from edge_agent.service import EdgeAgent
from edge_agent.settings import EdgeSettings
from tests.edge_agent.central_support import new_site, stored_keys
from tests.edge_agent.conftest import start_fleet

BLOCK = 43


def settings_for(
    tmp_path, url: str = "http://127.0.0.1:9/graphql", key: str | None = None, **extra
) -> EdgeSettings:
    """Fast intervals, loopback BACnet at 127.0.43.1:47809, a SQLite file, no .env."""
    values = dict(
        client_api_url=url,
        client_api_key=key,
        sqlite_path=str(tmp_path / "edge.db"),
        meters_file=str(tmp_path / "meters.json"),
        bacnet_interface=f"127.0.{BLOCK}.1/8",
        bacnet_port=47809,
        bacnet_timeout_seconds=1.5,
        collection_interval_seconds=0.5,
        sync_interval_seconds=0.5,
        heartbeat_interval_seconds=0.5,
        config_refresh_seconds=1.0,
        backoff_base_seconds=0.05,
        backoff_max_seconds=0.2,
        max_retries=1,
        log_dir=str(tmp_path / "logs"),
    )
    values.update(extra)
    return EdgeSettings(_env_file=None, **values)


@pytest.fixture
async def fleet():
    """Three simulated meters on 127.0.43.10-12."""
    fleet = await start_fleet(BLOCK, meters=3, points=2)
    yield fleet
    await fleet.stop()


async def _until(predicate, timeout: float = 20.0, step: float = 0.2):
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(step)


@pytest.mark.postgres
async def test_agent_moves_readings_into_central(fleet, tmp_path, central_pg_url, edge_central):
    site_id, key = await new_site(central_pg_url)
    save_meters_file(tmp_path / "meters.json", parse_meters(fleet.meters_config()))
    fleet.kill("meter-003")
    central = edge_central
    async with EdgeAgent(settings_for(tmp_path, central.url, key)) as agent:

        async def some_in_central():
            return len(await stored_keys(central_pg_url, site_id)) >= 12

        await _until(some_in_central)
        await _until(lambda: _heartbeat_seen(agent))
        await agent.stop_collection()
        summary = await agent.trigger_sync()
        assert summary.outcome == "ok" and summary.queue_depth == 0
        status = await agent.status()
        assert status.central_state == "ok" and status.collecting is False
        assert (status.meters_total, status.meters_reachable) == (3, 2)
        meters = {m.external_id: m for m in await agent.meters()}
        assert meters["meter-003"].reachable is False and meters["meter-003"].last_error
        recent = await agent.recent_readings("meter-001", "total_kwh")
        assert recent and all(r.unit == "kilowatt-hours" for r in recent)
        assert (await agent.sync_log(5))[0].success is True
        # Everything collected (kept locally) is in central, exactly once.
        local = [
            (r.meter_external_id, r.data_point, r.ts)
            for m in ("meter-001", "meter-002")
            for r in await agent.recent_readings(m)
        ]
        assert sorted(await stored_keys(central_pg_url, site_id)) == sorted(local)


async def _heartbeat_seen(agent) -> bool:
    return agent.last_heartbeat_at is not None


async def test_offline_start_uses_meters_file_and_keeps_collecting(fleet, tmp_path):
    save_meters_file(tmp_path / "meters.json", parse_meters(fleet.meters_config()))
    async with EdgeAgent(settings_for(tmp_path, key="mk_unused")) as agent:

        async def queued():
            return (await agent.status()).queue_depth >= 6

        await _until(queued)
        status = await agent.status()
        assert status.central_state == "unreachable" and status.meters_reachable == 3


async def test_control_api_without_central(fleet, tmp_path):
    agent = EdgeAgent(settings_for(tmp_path), collect=False, upload=False)
    await agent.start()
    try:
        assert (await agent.status()).meters_total == 0
        devices = await agent.discover_devices(f"127.0.{BLOCK}.9-127.0.{BLOCK}.13")
        assert sorted(d.device_id for d in devices) == sorted(m.device_id for m in fleet.meters.values())
        assert {o.units for d in devices for o in d.objects} == {"kilowatt-hours", "kilowatts"}
        meters = await agent.save_meter_config(fleet.meters_config()["meters"])
        assert [m.external_id for m in meters] == ["meter-001", "meter-002", "meter-003"]
        assert (
            json.loads((tmp_path / "meters.json").read_text())["meters"][0]["bacnet_ip"]
            == f"127.0.{BLOCK}.10"
        )
        read = await agent.test_read("meter-002")
        assert read.ok and {v.name for v in read.values} == {"total_kwh", "current_kw"}
        assert (await agent.status()).queue_depth == 0  # a test read queues nothing
        fleet.kill("meter-001")
        dead = await agent.test_read("meter-001")
        assert dead.ok is False and "no answer" in dead.error
        result = await agent.poll_now()
        assert (result.meters_ok, result.meters_failed) == (2, 1)
        with pytest.raises(ConfigError):
            await agent.save_meter_config([{"id": "x", "name": "x", "bacnet_ip": "127.0.0.1"}] * 2)
    finally:
        await agent.stop()
