"""One meter inventory per site: the edge proposes, central versions, both sides edit, nothing is lost.

Real parts: a `meterit api` process on PostgreSQL (stopped and restarted by the tests), an EdgeAgent polling
simulated BACnet meters on 127.0.44.x over UDP, GraphQL over HTTP as an admin would use it.
"""

import asyncio
import json
import time
from datetime import timedelta

import pytest

from db.clock import utcnow
from edge_agent.collector.poller import Collector
from edge_agent.errors import ConfigError
from edge_agent.inventory import meter_configs_of
from edge_agent.meters import parse_meters, save_meters_file
from edge_agent.service import EdgeAgent
from edge_agent.site_sync import cached_site_config
from tests.api.conftest import execute, http_client, login, new_user
from tests.e2e.support import meterit
from tests.edge_agent.central_support import new_site
from tests.edge_agent.conftest import start_fleet
from tests.edge_agent.test_service import settings_for
from tests.support.central_server import CentralServer

BLOCK = 44
INVENTORY = """query($s: ID!) { siteInventory(siteId: $s) { version meters { externalId name bacnetAddress
  bacnetDeviceId intervalSeconds points { name objectType instance unit cumulative } }
  history { version origin author changes conflicts { meter field kept dropped } } } }"""
METERS = "query($s: ID!) { meters(siteId: $s) { externalId name state dataPoints { name unit cumulative } } }"
EDIT = """mutation($s: ID!, $m: MeterEditInput!) { editMeter(siteId: $s, meter: $m) { version } }"""
UPSERT = "mutation($s: ID!, $m: MeterInput!) { upsertMeter(siteId: $s, meter: $m) { id name } }"

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def central(central_pg_url, tmp_path_factory):
    """A central server of this module's own (the tests stop and restart it), alerts checked every second."""
    log = tmp_path_factory.mktemp("inventory-central") / "central.log"
    env = {"RATE_LIMIT_PER_MINUTE": "100000", "ALERT_INTERVAL_SECONDS": "1"}
    server = CentralServer(central_pg_url, env=env, log_path=log, args=["--no-migrate"], startup_timeout=120)
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def central_running(central):
    """Each test starts with the module's central up, whatever the test before left (a failed test can leave it
    stopped, and its failure must not cascade into every test after it)."""
    if central.process is None or central.process.poll() is not None:
        central.start()
    yield


@pytest.fixture(scope="module")
def admin(central, central_pg_url) -> str:
    """An admin's token."""
    return asyncio.run(login(central.url, asyncio.run(new_user(central_pg_url, "admin"))))


@pytest.fixture
async def fleet():
    """Three simulated meters (total_kwh on analog-input 0, current_kw on 1) at 127.0.44.10-12."""
    fleet = await start_fleet(BLOCK, meters=3, points=2)
    yield fleet
    await fleet.stop()


async def gql(central, admin, query: str, **variables) -> dict:
    """One operation as the admin."""
    return await execute(http_client(central.url, token=admin), query, **variables)


async def until(predicate, timeout: float = 60.0, what: str = "condition"):
    """Wait for an async predicate (bounded; generous: a whole-suite run at load 20 once needed over 30 s)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, f"{what} not reached in {timeout} s"
        await asyncio.sleep(0.2)


async def inventory(central, admin, site_id: int) -> dict:
    """The site's inventory as central serves it."""
    return (await gql(central, admin, INVENTORY, s=str(site_id)))["siteInventory"]


def settings(tmp_path, central, key, **extra):
    """The agent's settings at this test's addresses (config synced every second)."""
    return settings_for(tmp_path, central.url, key, bacnet_interface=f"127.0.{BLOCK}.1/8", **extra)


async def test_first_contact_then_a_central_rename_keeps_each_point_on_its_object(
    fleet, tmp_path, central, admin, central_pg_url
):
    site_id, key = await new_site(central_pg_url)
    save_meters_file(tmp_path / "meters.json", parse_meters(fleet.meters_config()))
    fleet.kill("meter-003")  # never answers: central must still know it from the edge's first contact
    await gql(
        central, admin,
        'mutation($s: ID!) { createAlertRule(kind: "meter_unreachable", siteId: $s, rule: {threshold: 0.05}) { id } }',
        s=str(site_id),
    )  # fmt: skip
    async with EdgeAgent(settings(tmp_path, central, key)) as agent:
        first = await inventory(central, admin, site_id)
        assert first["version"] == 1 and [m["externalId"] for m in first["meters"]] == [
            "meter-001", "meter-002", "meter-003",
        ]  # fmt: skip
        assert first["history"][0]["origin"] == "file"
        energy = first["meters"][0]["points"][0]
        assert (energy["name"], energy["instance"], energy["cumulative"]) == ("total_kwh", 0, True)
        assert energy["unit"] == "kilowatt-hours"

        async def never_answered_known():
            meters = (await gql(central, admin, METERS, s=str(site_id)))["meters"]
            return {m["externalId"]: m["state"] for m in meters}.get("meter-003") == "never answered"

        await until(never_answered_known, what="meter-003 shown as never answered")

        async def alert_raised():
            alerts = (await gql(central, admin, "{ alerts { kind message } }"))["alerts"]
            return any(a["kind"] == "meter_unreachable" and "meter-003" in a["message"] for a in alerts)

        await until(alert_raised, what="the meter-unreachable alert for meter-003")

        async def consumption_at_central():  # the unit and cumulative flag set on site give kWh used
            site = await gql(
                central, admin, "query($s: ID!) { site(id: $s) { todayEnergyKwh } }", s=str(site_id)
            )
            return (site["site"]["todayEnergyKwh"] or 0) > 0

        await until(consumption_at_central, what="today's kWh at central from the site's registers")

        # Case 1 of the issue: an admin tidies a meter at central (name, address, device id, no points).
        address = first["meters"][0]["bacnetAddress"]
        meter = {
            "externalId": "meter-001",
            "name": "Main incomer",
            "bacnetAddress": address,
            "bacnetDeviceId": 4401,
        }
        await gql(central, admin, UPSERT, s=str(site_id), m=meter)

        async def applied():
            return agent.inventory.version == 2

        await until(applied, what="version 2 applied at the edge")
        running = agent.inventory.running.by_id()["meter-001"]
        assert running.name == "Main incomer" and running.bacnet_device_id == 4401
        assert [(p.name, p.object_type, p.instance) for p in running.points] == [
            ("total_kwh", "analog-input", 0), ("current_kw", "analog-input", 1),
        ]  # fmt: skip
        applied_at = agent.inventory  # polls after the change still read each point from its own object
        await agent.poll_now()
        rows = {r.data_point: r.value for r in await agent.recent_readings("meter-001")}
        assert rows["total_kwh"] > 500 > rows["current_kw"] > 0, rows
        assert applied_at.pending is None
    history = (await inventory(central, admin, site_id))["history"]
    assert [h["origin"] for h in history] == ["graphql", "file"]
    assert "meter-001: name 'Simulated meter 1' -> 'Main incomer'" in history[0]["changes"]
    # `meterit edge poll` (central not asked) polls the same inventory, not meters.json as written
    env = {"SQLITE_PATH": str(tmp_path / "edge.db"), "METERS_FILE": str(tmp_path / "meters.json"),
           "BACNET_INTERFACE": f"127.0.{BLOCK}.1/8", "BACNET_PORT": "47809", "BACNET_TIMEOUT_SECONDS": "1",
           "CLIENT_API_KEY": "", "LOG_DIR": str(tmp_path / "cli-logs")}  # fmt: skip
    polled = await asyncio.to_thread(meterit, "edge", "poll", env=env, cwd=tmp_path, timeout=120)
    assert polled.returncode == 0, polled.stderr[-2000:]
    names = {m["external_id"]: m["name"] for m in json.loads(polled.stdout)["meters"]}
    assert names["meter-001"] == "Main incomer"


async def test_placeholder_edited_at_central_never_sends_its_guessed_points(central, admin, central_pg_url):
    site_id, key = await new_site(central_pg_url)
    when = (utcnow() - timedelta(hours=1)).isoformat()
    reading = {"meter_external_id": "meter-x", "data_point": "current_kw", "timestamp": when, "value": 12.5,
               "unit": "kilowatts"}  # fmt: skip
    upload = "mutation($b: ReadingBatchInput!) { uploadReadings(batch: $b) { ... on UploadResult { new } } }"
    result = await execute(
        http_client(central.url, key=key), upload, b={"batchId": "p-1", "readings": [reading]}
    )
    assert result["uploadReadings"]["new"] == 1  # central registered meter-x as a placeholder
    meter = {"externalId": "meter-x", "name": "Tidied", "bacnetAddress": "127.0.44.99", "bacnetDeviceId": 9}
    await gql(central, admin, UPSERT, s=str(site_id), m=meter)
    config = await execute(
        http_client(central.url, key=key),
        "{ siteConfig { inventory { version meters { externalId points { name instance } } } "
        "meters { externalId dataPoints { name } } } }",
    )
    assert config["siteConfig"]["inventory"]["meters"] == [{"externalId": "meter-x", "points": []}]
    assert config["siteConfig"]["meters"] == [{"externalId": "meter-x", "dataPoints": []}]


async def test_edits_each_way_with_central_away_a_conflict_and_a_restart(
    fleet, tmp_path, central, admin, central_pg_url
):
    site_id, key = await new_site(central_pg_url)
    save_meters_file(tmp_path / "meters.json", parse_meters(fleet.meters_config()))
    edge = settings(tmp_path, central, key)
    async with EdgeAgent(edge) as agent:
        await until(lambda: _is(agent.inventory.version, 1), what="first contact")
        # edge -> central: a save in the edge dashboard (one meter, the others as they run)
        boiler = meter_configs_of(agent.inventory.running)[1].model_copy(update={"name": "Boiler room"})
        await agent.save_meter(boiler)
        await until(lambda: _is(agent.inventory.version, 2), what="the edge's edit accepted")
        found = await inventory(central, admin, site_id)
        assert (
            found["meters"][1]["name"] == "Boiler room" and found["history"][0]["origin"] == "edge_dashboard"
        )
        # central -> edge: a per-meter interval, and the site's
        await gql(central, admin, EDIT, s=str(site_id), m={"externalId": "meter-002", "intervalSeconds": 30})
        await until(lambda: _is(agent.inventory.version, 3), what="central's edit accepted")
        # the collector takes the version right after the sync that brought it
        await until(
            lambda: _is(agent.collector.meters["meter-002"].interval_seconds, 30),
            what="central's edit applied",
        )
        site_interval = (
            "mutation($s: ID!, $v: Float!) { setSiteCollectionInterval(siteId: $s, seconds: $v) { id } }"
        )
        with pytest.raises(Exception, match="collection interval must be 5 to 86400 seconds"):
            await gql(central, admin, site_interval, s=str(site_id), v=2)
        await gql(central, admin, site_interval, s=str(site_id), v=20)
        # (this agent sets COLLECTION_INTERVAL_SECONDS itself, which wins on site; central's value arrives)
        await until(lambda: _site_interval_is(agent, 20.0), what="the site's interval delivered")

        central.stop()  # central away: both sides edit meter-003 between two syncs
        # an upload in flight at the stop may still be acknowledged (graceful stop): measure once the agent
        # has found central unreachable, so only polling moves the queue from here on
        await until(lambda: _uploader_is(agent, "unreachable"), what="the agent sees central away")
        queued_before = (await agent.status()).queue_depth
        meters = meter_configs_of(agent.inventory.running)
        meters[2] = meters[2].model_copy(update={"name": "Named on site"})
        meters[0] = meters[0].model_copy(update={"name": "Only the edge renamed this"})
        await agent.save_meter_config(meters)
        assert agent.inventory.running.by_id()["meter-003"].name == "Named on site"  # runs at once, offline
        assert agent.inventory.pending is not None
        assert (await agent.status()).queue_depth >= queued_before  # a config change never touches the outbox
    # an edge restart with central down runs the pending change, not meters.json's first version
    async with EdgeAgent(edge) as agent:
        assert agent.inventory.running.by_id()["meter-003"].name == "Named on site"
        assert agent.collector.meters["meter-002"].interval_seconds == 30
        await agent.stop_collection()
    central.restart()
    await gql(central, admin, EDIT, s=str(site_id), m={"externalId": "meter-003", "name": "Named at central"})
    async with EdgeAgent(edge) as agent:
        await until(lambda: _is(agent.inventory.pending, None), what="the pending change answered")
        running = agent.inventory.running.by_id()
        assert running["meter-003"].name == "Named at central"  # the written rule: central's value stays
        assert running["meter-001"].name == "Only the edge renamed this"  # no conflict: the edge's edit lands
    found = await inventory(central, admin, site_id)
    assert found["version"] == 5
    conflict = found["history"][0]["conflicts"]
    assert conflict == [{"meter": "meter-003", "field": "name", "kept": '"Named at central"',
                         "dropped": '"Named on site"'}]  # fmt: skip


async def _is(value, expected) -> bool:
    return value == expected


async def _uploader_is(agent, state: str) -> bool:
    return agent.uploader.state == state


async def _site_interval_is(agent, seconds: float) -> bool:
    return ((await cached_site_config(agent)) or {}).get("collectionIntervalSeconds") == seconds


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"points": [{"name": "x", "objectType": "analog-banana", "instance": 1}]},
            "unknown BACnet object type",
        ),
        ({"points": [{"name": "x", "instance": 1, "property": "colour"}]}, "unknown BACnet property"),
        (
            {"points": [{"name": "x", "instance": 1}, {"name": "x", "instance": 2}]},
            "point names must be unique",
        ),
        ({"bacnetAddress": "not-an-address"}, "is not a BACnet address"),
        ({"intervalSeconds": 1}, "greater than or equal to 5"),
        ({"intervalSeconds": 172800}, "less than or equal to 86400"),
        ({"points": [{"name": f"p{i}", "instance": i} for i in range(5000)]}, "at most 200 items"),
    ],
)
async def test_bad_edits_are_refused_with_a_reason_and_the_version_stays(
    central, admin, central_pg_url, change, message
):
    site_id, _ = await new_site(central_pg_url)
    good = {"externalId": "m1", "name": "M1", "bacnetAddress": "127.0.44.50"}
    await gql(central, admin, EDIT, s=str(site_id), m=good)
    with pytest.raises(Exception, match=message):
        await gql(central, admin, EDIT, s=str(site_id), m=good | change)
    assert (await inventory(central, admin, site_id))["version"] == 1


async def test_bad_edge_edit_is_refused_on_site_and_nothing_changes(fleet, tmp_path, central, central_pg_url):
    site_id, key = await new_site(central_pg_url)
    save_meters_file(tmp_path / "meters.json", parse_meters(fleet.meters_config()))
    async with EdgeAgent(settings(tmp_path, central, key)) as agent:
        await until(lambda: _is(agent.inventory.version, 1), what="first contact")
        meters = fleet.meters_config()["meters"]
        meters[0]["data_points"][0]["object_type"] = "analogBanana"
        with pytest.raises(ConfigError, match="unknown BACnet object type 'analogBanana'"):
            await agent.save_meter_config(meters)
        assert agent.inventory.version == 1 and agent.inventory.pending is None
        assert agent.inventory.running.by_id()["meter-001"].points[0].object_type == "analog-input"


def test_each_meter_is_polled_on_its_own_interval():
    collector = Collector(None, None)
    meters = parse_meters(
        {"meters": [
            {"id": "fast", "name": "F", "bacnet_ip": "127.0.44.70", "interval_seconds": 5},
            {"id": "site", "name": "S", "bacnet_ip": "127.0.44.71"},
            {"id": "slow", "name": "L", "bacnet_ip": "127.0.44.72", "interval_seconds": 60},
        ]}
    )  # fmt: skip
    collector.set_meters(meters)
    assert collector.tick(10) == 5  # the loop wakes for the fastest meter
    assert [m.id for m in collector.due(10)] == ["fast", "site", "slow"]  # nothing polled yet
    now = time.monotonic()
    collector.polled_at = {"fast": now - 5, "site": now - 6, "slow": now - 30}
    assert [m.id for m in collector.due(10)] == ["fast"]
    collector.polled_at = {"fast": now - 5, "site": now - 10, "slow": now - 59.5}
    assert [m.id for m in collector.due(10)] == ["fast", "site", "slow"]  # a tick 5% early still counts
