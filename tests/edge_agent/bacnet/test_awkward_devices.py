"""Devices that refuse ReadPropertyMultiple, answer slowly or lack a point, over real UDP BACnet (block 44)."""

from datetime import UTC, datetime, timedelta

import pytest

from db.clock import FixedClock, use_clock
from db.edge.outbox import Outbox
from edge_agent.collector.profile import DeviceProfile, Limits
from edge_agent.meters import parse_meters
from tests.edge_agent.conftest import client_app, make_collector, start_fleet

BLOCK = 44
REFUSALS = {0: "reject", 1: "error", 2: "abort", 3: "silent"}


@pytest.fixture
async def outbox(edge_engine):
    """An open outbox on a fresh edge database."""
    outbox = Outbox(edge_engine)
    await outbox.open()
    return outbox


async def _readings(outbox: Outbox, meter: str) -> list:
    return [q.reading for q in await outbox.peek(10_000) if q.reading.meter_external_id == meter]


async def test_devices_refusing_rpm_as_a_whole_are_read_point_by_point_and_remembered(outbox):
    fleet = await start_fleet(BLOCK, meters=5, points=3, no_rpm=REFUSALS)
    app = client_app(BLOCK)
    moment = datetime(2026, 1, 1, tzinfo=UTC)  # any moment: only the distance to it matters
    try:
        with use_clock(FixedClock(moment)) as fixed:
            collector = make_collector(app, outbox, fleet, reprobe_after=timedelta(hours=1))
            result = await collector.poll_once()
            assert (result.meters_ok, result.meters_failed, result.values) == (5, 0, 15)
            for index, how in REFUSALS.items():
                meter = f"meter-{index + 1:03d}"
                profile = collector.profiles[meter]
                assert profile.rpm is False, how
                assert collector.health[meter].reachable is True, how
                assert {r.data_point for r in await _readings(outbox, meter)} == {
                    "total_kwh",
                    "current_kw",
                    "voltage_l1",
                }
                assert {r.unit for r in await _readings(outbox, meter)} >= {"kilowatt-hours", "kilowatts"}
            assert collector.profiles["meter-005"].rpm is True
            assert collector.profiles["meter-001"].restricted_at == moment

            # Remembered: the next poll goes straight to ReadProperty (no new restriction recorded).
            fixed.advance(timedelta(minutes=30))
            await collector.poll_once()
            assert collector.profiles["meter-001"].restricted_at == moment

            # After the re-probe interval the device is tried with RPM again (and refuses again).
            fixed.advance(timedelta(minutes=31))
            result = await collector.poll_once()
            assert result.meters_ok == 5
            assert collector.profiles["meter-001"].rpm is False
            assert collector.profiles["meter-001"].restricted_at == fixed.now()
    finally:
        app.close()
        await fleet.stop()


async def test_one_lost_rpm_does_not_give_rpm_up(outbox):
    fleet = await start_fleet(BLOCK, meters=1, points=3, no_rpm={0: "silent-once"}, base=60)
    app = client_app(BLOCK)
    try:
        collector = make_collector(app, outbox, fleet, timeout=0.5, max_timeout=1.0, retries=0)
        result = await collector.poll_once()
        assert (result.meters_ok, result.meters_failed, result.values) == (1, 0, 3)
        profile = collector.profiles["meter-001"]
        assert (profile.rpm, profile.rpm_confirmed, profile.restricted_at) == (True, True, None)
    finally:
        app.close()
        await fleet.stop()


@pytest.mark.parametrize("rpm", [True, "reject"], ids=["rpm", "rp"])
async def test_a_missing_point_is_a_point_error_not_a_dead_meter(outbox, rpm):
    base = 30 if rpm is True else 31
    fleet = await start_fleet(BLOCK, meters=1, points=2, no_rpm=None if rpm is True else {0: rpm}, base=base)
    app = client_app(BLOCK)
    try:
        config = fleet.meters_config()
        config["meters"][0]["data_points"].append(
            {"object_type": "analogInput", "instance": 99, "property": "presentValue", "name": "ghost"}
        )
        collector = make_collector(app, outbox, fleet)
        collector.set_meters(parse_meters(config))
        result = await collector.poll_once()
        assert (result.meters_ok, result.meters_failed) == (1, 0)
        assert {r.data_point for r in await _readings(outbox, "meter-001")} == {"total_kwh", "current_kw"}
        health = collector.health["meter-001"]
        assert health.reachable is True and "ghost" in health.last_error
    finally:
        app.close()
        await fleet.stop()


async def test_a_slow_device_is_waited_for_and_its_timeout_remembered(outbox):
    fleet = await start_fleet(BLOCK, meters=2, points=2, slow={0: 2.0}, base=40)
    app = client_app(BLOCK)
    try:
        collector = make_collector(app, outbox, fleet, timeout=1.5, max_timeout=6.0, retries=1)
        result = await collector.poll_once()
        assert (result.meters_ok, result.meters_failed, result.values) == (2, 0, 4)
        slow = collector.profiles["meter-001"]
        assert slow.timeout >= 2.0 and slow.rpm is True
        assert collector.profiles["meter-002"].timeout == 1.5
        # Learnt: the next poll waits long enough at the first attempt.
        result = await collector.poll_once()
        assert (result.meters_ok, result.values) == (2, 4)
        assert not slow.silent
    finally:
        app.close()
        await fleet.stop()


async def test_a_silent_device_is_dead_and_costs_one_attempt_per_poll(outbox):
    fleet = await start_fleet(BLOCK, meters=1, points=2, base=50)
    app = client_app(BLOCK)
    try:
        fleet.kill("meter-001")
        collector = make_collector(app, outbox, fleet, timeout=1.0, max_timeout=2.0, retries=1)
        result = await collector.poll_once()
        assert (result.meters_ok, result.meters_failed) == (0, 1)
        profile = collector.profiles["meter-001"]
        assert profile.silent and profile.as_dict()["retries"] == 0 and profile.timeout == 1.0
        assert profile.rpm is True  # nothing was learnt from silence
        fleet.revive("meter-001")
        result = await collector.poll_once()
        assert (result.meters_ok, result.values) == (1, 2)
        assert not profile.silent
    finally:
        app.close()
        await fleet.stop()


def test_profile_learning_rules():
    limits = Limits(timeout=1.0, max_timeout=4.0, retries=2, max_outstanding=4, points_per_request=8)
    profile = DeviceProfile(limits)
    assert [profile.shrink_batch() for _ in range(4)] == [True, True, True, False]
    assert profile.points_per_request == 1
    assert profile.timed_out(1.0) and profile.timeout == 2.0
    assert profile.timed_out(1.0) and profile.timeout == 2.0  # a concurrent request already raised it
    assert profile.timed_out(2.0) and profile.timeout == 4.0
    assert not profile.timed_out(4.0)
    profile.answered(0.3)
    assert profile.timeout == 1.0
    for expected in (2, 1, 1):
        profile.overloaded()
        assert profile.max_outstanding == expected and profile.limiter.limit == expected
    assert profile.gap == 0.05
    profile.went_silent()
    assert profile.attempt_timeout() == 1.0  # right after going silent: the usual wait
    profile.silent_polls = 5
    assert profile.attempt_timeout() == 4.0  # every fifth silent poll: the longest wait
