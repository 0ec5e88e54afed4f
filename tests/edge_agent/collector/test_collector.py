"""Collector against simulated meters over real UDP BACnet on loopback (block 127.0.41.x)."""

import asyncio

import pytest

from db.edge.outbox import Outbox
from db.wire import Quality
from tests.edge_agent.conftest import client_app, make_collector, start_fleet

BLOCK = 41


@pytest.fixture
async def rig(edge_engine):
    """Four meters with 10 points (meter-003 refuses RPM), a client, an outbox, a collector."""
    fleet = await start_fleet(BLOCK, meters=4, points=10, no_rpm={2}, record=True)
    app = client_app(BLOCK)
    outbox = Outbox(edge_engine)
    await outbox.open()
    collector = make_collector(app, outbox, fleet)
    yield fleet, collector, outbox
    app.close()
    await fleet.stop()


async def _queued(outbox: Outbox) -> list:
    return [q.reading for q in await outbox.peek(10_000)]


async def test_rpm_reads_every_point_with_units_and_quality(rig):
    fleet, collector, outbox = rig
    result = await collector.poll_once()
    assert (result.meters_ok, result.meters_failed, result.values) == (4, 0, 40)
    readings = await _queued(outbox)
    by_key = {(r.meter_external_id, r.data_point): r for r in readings}
    energy = by_key[("meter-001", "total_kwh")]
    assert energy.unit == "kilowatt-hours" and energy.quality == Quality.GOOD
    assert energy.value == pytest.approx(1000.0, abs=1.0)
    assert by_key[("meter-002", "current_kw")].unit == "kilowatts"
    assert by_key[("meter-004", "frequency")].unit == "hertz"
    assert collector.profiles["meter-001"].rpm is True


async def test_readproperty_fallback_for_a_device_refusing_rpm(rig):
    fleet, collector, outbox = rig
    await collector.poll_once()
    assert collector.profiles["meter-003"].rpm is False
    readings = [r for r in await _queued(outbox) if r.meter_external_id == "meter-003"]
    assert len(readings) == 10
    assert {r.unit for r in readings} >= {"kilowatt-hours", "volts", "amperes"}


async def test_dead_meter_does_not_hold_back_the_others_and_gets_no_invented_reading(rig):
    fleet, collector, outbox = rig
    fleet.kill("meter-002")
    result = await collector.poll_once()
    assert (result.meters_ok, result.meters_failed, result.values) == (3, 1, 30)
    readings = await _queued(outbox)
    assert not [r for r in readings if r.meter_external_id == "meter-002"]
    dead = collector.health["meter-002"]
    assert dead.reachable is False and "no answer" in dead.last_error
    fleet.revive("meter-002")
    await collector.poll_once()
    assert collector.health["meter-002"].reachable is True
    assert collector.reachable_count() == 4


async def test_counter_reset_is_stored_as_read_and_counted(rig):
    fleet, collector, outbox = rig
    await collector.poll_once()
    fleet.reset("meter-001")
    await collector.poll_once()
    energy = sorted(
        (
            r
            for r in await _queued(outbox)
            if (r.meter_external_id, r.data_point) == ("meter-001", "total_kwh")
        ),
        key=lambda r: r.ts,
    )
    assert len(energy) == 2
    assert energy[0].value > 999 and energy[1].value < 1.0
    assert collector.health["meter-001"].counter_resets == 1
    assert collector.health["meter-002"].counter_resets == 0


async def test_fault_flag_becomes_bad_quality(rig):
    fleet, collector, outbox = rig
    fleet.fault("meter-004")
    await collector.poll_once()
    readings = await _queued(outbox)
    assert {r.quality for r in readings if r.meter_external_id == "meter-004"} == {Quality.BAD}
    assert {r.quality for r in readings if r.meter_external_id == "meter-001"} == {Quality.GOOD}


async def test_collected_values_are_values_the_simulator_served(rig):
    fleet, collector, outbox = rig
    await collector.poll_once()
    await collector.poll_once()
    served = {(device_id, point, value) for device_id, point, value, _at in fleet.served}
    devices = {mid: m.device_id for mid, m in fleet.meters.items()}
    readings = await _queued(outbox)
    assert len(readings) == 80
    for r in readings:
        assert (devices[r.meter_external_id], r.data_point, r.value) in served


async def test_cov_notifications_become_readings(edge_engine):
    from edge_agent.collector.cov import CovSubscriptions
    from edge_agent.meters import parse_meters
    from edge_agent.simulator import SimulatorFleet

    fleet = SimulatorFleet(1, f"127.0.{BLOCK}.50", points=2, tick_seconds=0.2)
    await fleet.start()
    app = client_app(BLOCK)
    outbox = Outbox(edge_engine)
    cov = CovSubscriptions(app, outbox, lambda meter, point: "kilowatts")
    try:
        config = fleet.meters_config()
        config["meters"][0]["data_points"][1]["cov"] = True
        cov.sync(parse_meters(config))
        for _ in range(50):
            if cov.notifications >= 2:
                break
            await asyncio.sleep(0.2)
        readings = [q.reading for q in await outbox.peek(100)]
        assert len(readings) >= 2
        assert {(r.meter_external_id, r.data_point, r.unit) for r in readings} == {
            ("meter-001", "current_kw", "kilowatts")
        }
    finally:
        await cov.stop()
        app.close()
        await fleet.stop()
