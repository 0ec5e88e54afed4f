"""BACnet port, broadcast and address settings; discovery from a port other than the meters' (block 45).

The broadcast Who-Is goes to 127.255.255.255:47808 and so reaches every simulated device on this machine:
the fleet here has its own device instances and every Who-Is is limited to them.
"""

import socket

import pytest
from pydantic import ValidationError

from edge_agent.bacnet.app import check_port_free, loopback_self_addressed, make_application, wait_bound
from edge_agent.discovery import discover
from edge_agent.errors import BacnetPortInUse, ConfigError
from edge_agent.meters import MeterConfig, parse_meters, save_meters_file
from edge_agent.service import EdgeAgent
from edge_agent.settings import EdgeSettings
from edge_agent.simulator import SimulatorFleet
from tests.edge_agent.conftest import client_app

BLOCK = 45
DEVICE_BASE = 4_045_000  # instances DEVICE_BASE+1.. belong to this module's fleet only
LOW, HIGH = DEVICE_BASE, DEVICE_BASE + 999


@pytest.fixture
async def fleet():
    """Three meters on 127.0.45.10-12:47808 with this module's device instances."""
    fleet = SimulatorFleet(3, f"127.0.{BLOCK}.10", points=2, device_id_base=DEVICE_BASE)
    await fleet.start()
    yield fleet
    await fleet.stop()


def settings(tmp_path, **extra) -> EdgeSettings:
    values = dict(
        sqlite_path=str(tmp_path / "edge.db"),
        meters_file=str(tmp_path / "meters.json"),
        bacnet_interface=f"127.0.{BLOCK}.1/8",
        bacnet_port=47809,
        bacnet_timeout_seconds=1.5,
        log_dir=str(tmp_path / "logs"),
    )
    values.update(extra)
    return EdgeSettings(_env_file=None, **values)


def test_default_port_is_the_standard_one_and_broadcast_gets_it():
    s = EdgeSettings(_env_file=None)
    assert s.bacnet_port == 47808
    assert s.who_is_broadcast == "127.255.255.255:47808"
    assert EdgeSettings(_env_file=None, bacnet_broadcast_address="127.0.45.255:47900").who_is_broadcast == (
        "127.0.45.255:47900"
    )
    with pytest.raises(ValidationError, match="BACNET_BROADCAST_ADDRESS"):
        EdgeSettings(_env_file=None, bacnet_broadcast_address="255.255.255.255")


def test_a_port_held_by_another_process_is_a_clear_error_naming_the_setting():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
        other.bind((f"127.0.{BLOCK}.2", 47808))
        with pytest.raises(BacnetPortInUse, match="BACNET_PORT") as caught:
            check_port_free(f"127.0.{BLOCK}.2/8:47808")
        assert "47808" in str(caught.value)
    check_port_free(f"127.0.{BLOCK}.2/8:47808")  # free again


async def test_another_bacpypes3_application_on_the_broadcast_address_is_not_a_conflict():
    app = make_application(f"127.0.{BLOCK}.3/8:47811", 4_045_990, "neighbour")
    try:
        await wait_bound(app)
        check_port_free(f"127.0.{BLOCK}.4/8:47811")  # shares 127.255.255.255:47811 through SO_REUSEPORT
        with pytest.raises(BacnetPortInUse):
            check_port_free(f"127.0.{BLOCK}.3/8:47811")
    finally:
        app.close()


async def test_agent_start_fails_clearly_when_its_port_is_taken(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
        other.bind((f"127.0.{BLOCK}.5", 47809))
        agent = EdgeAgent(
            settings(tmp_path, bacnet_interface=f"127.0.{BLOCK}.5/8"), collect=False, upload=False
        )
        with pytest.raises(BacnetPortInUse, match="BACNET_PORT"):
            await agent.start(loops_on=False)
        await agent.stop()


def test_loopback_meters_on_the_agents_own_port_are_named():
    meters = ["127.0.0.10", "127.0.0.11:47809", "5:12", "5:127.0.0.20"]
    assert loopback_self_addressed(meters, 47808) == ["127.0.0.10"]
    assert loopback_self_addressed(meters, 47809) == ["127.0.0.11:47809"]


@pytest.mark.parametrize(
    "address", ["127.0.0.10", "127.0.0.10:47809", "5:12", "5:0x0c", "5:127.0.0.20", "5:127.0.0.20:47808"]
)
def test_every_documented_address_form_is_accepted(address):
    assert MeterConfig(id="m", name="m", bacnet_ip=address).address == address


@pytest.mark.parametrize("address", ["meter.local", "127.0.0.10:", "0:12", "70000:1", "5:12:13"])
def test_other_addresses_are_refused_with_the_forms_named(address):
    with pytest.raises(ConfigError, match="network|BACnet address"):
        parse_meters({"meters": [{"id": "m", "name": "m", "bacnet_ip": address}]})


async def test_broadcast_who_is_from_another_port_finds_the_meters_within_the_instance_range(fleet):
    app = client_app(BLOCK)
    try:
        devices = await discover(app, [], 1.5, broadcasts=["127.255.255.255:47808"], low=LOW, high=HIGH)
        assert {(d.device_id, d.address) for d in devices} == {
            (DEVICE_BASE + i + 1, f"127.0.{BLOCK}.{10 + i}") for i in range(3)
        }
        assert {o.name for o in devices[0].objects} == {"total_kwh", "current_kw"}
        narrow = await discover(app, [], 1.5, broadcasts=["127.255.255.255:47808"], low=LOW + 2, high=LOW + 2)
        assert [d.device_id for d in narrow] == [DEVICE_BASE + 2]
    finally:
        app.close()


async def test_agent_discovers_known_meters_by_directed_who_is_and_the_broadcast_setting(fleet, tmp_path):
    config = fleet.meters_config()
    save_meters_file(tmp_path / "meters.json", parse_meters({"meters": config["meters"][:1]}))
    agent = EdgeAgent(settings(tmp_path), collect=False, upload=False)
    await agent.start(loops_on=False)
    try:
        directed = await agent.discover_devices(broadcast=False)
        assert [d.device_id for d in directed] == [DEVICE_BASE + 1]
        everything = await agent.discover_devices(low=LOW, high=HIGH)
        assert [d.device_id for d in everything] == [DEVICE_BASE + i + 1 for i in range(3)]
        with pytest.raises(ConfigError, match="instance range"):
            await agent.discover_devices(low=LOW)
        await agent.poll_now()
        (meter,) = await agent.meters()
        assert meter.reachable is True
        assert meter.device_profile["rpm"] is True and meter.device_profile["silent"] is False
    finally:
        await agent.stop()


def test_routes_and_bbmd_settings_are_checked():
    s = EdgeSettings(_env_file=None, bacnet_routes="5=127.0.0.1, 6=127.0.0.2:47810")
    assert s.routes == {5: "127.0.0.1", 6: "127.0.0.2:47810"}
    with pytest.raises(ValidationError, match="BACNET_ROUTES"):
        EdgeSettings(_env_file=None, bacnet_routes="five=127.0.0.1")
    with pytest.raises(ValidationError, match="BACNET_BBMD_ADDRESS"):
        EdgeSettings(_env_file=None, bacnet_bbmd_address="bbmd.local")
    assert EdgeSettings(_env_file=None, bacnet_bbmd_address="127.0.0.1:47808").bacnet_bbmd_ttl == 300


def test_one_address_rule_on_site_and_at_central():
    from db.inventory import InventoryError, parse_inventory
    from edge_agent.meters import parse_meters

    for good in ("127.0.0.1", "127.0.0.1:47809", "5:127.0.0.2:47810", "5:12", "5:0x0c"):
        parse_meters({"meters": [{"id": "m", "name": "m", "bacnet_ip": good}]})
        parse_inventory([{"external_id": "m", "name": "m", "bacnet_address": good}])
    for bad in ("meter.local", "0:12", "70000:12"):
        with pytest.raises(ConfigError, match="BACnet"):
            parse_meters({"meters": [{"id": "m", "name": "m", "bacnet_ip": bad}]})
        with pytest.raises(InventoryError, match="BACnet"):
            parse_inventory([{"external_id": "m", "name": "m", "bacnet_address": bad}])
