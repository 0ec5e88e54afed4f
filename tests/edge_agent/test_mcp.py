"""Each edge MCP tool through the SDK's Client, over a real EdgeAgent polling simulated BACnet meters.

Addresses 127.0.0.200-127.0.0.209 belong to these tests: the agent's BACnet client is 127.0.0.200:47809
(127.0.0.204:47809 for the stdio run), the simulated meters are 127.0.0.201-203 on 47808.
"""

import asyncio
import json
import os
import sys

import pytest
from mcp import Client, StdioServerParameters

from db.central.sites import create_site
from db.engine import make_engine, make_sessionmaker, session_scope
from edge_agent.local_api import LocalApiServer
from edge_agent.mcp_server import build_edge_mcp
from edge_agent.service import EdgeAgent
from edge_agent.settings import EdgeSettings
from edge_agent.simulator import SimulatorFleet
from tests.support.central_server import REPO_ROOT, CentralServer, free_port

TOOLS = {
    "start_collection",
    "stop_collection",
    "get_sync_status",
    "trigger_sync",
    "query_meter_readings",
    "get_meter_status",
    "get_inventory",
    "discover_devices",
    "get_alerts",
}


@pytest.fixture(scope="module")
async def fleet():
    """Three simulated meters on 127.0.0.201-203."""
    simulators = SimulatorFleet(3, "127.0.0.201", points=2)
    await simulators.start()
    yield simulators
    await simulators.stop()


@pytest.fixture
def central(central_pg_url, tmp_path):
    """A real central server, and a coroutine function making a site key for the agent."""

    async def new_key() -> str:
        engine = make_engine(central_pg_url, pool_size=1)
        async with session_scope(make_sessionmaker(engine)) as session:
            created = await create_site(session, f"edge-mcp-{os.getpid()}-{tmp_path.name[-12:]}")
        await engine.dispose()
        return created.api_key

    server = CentralServer(central_pg_url, env={"ALERT_ENABLED": "false"}, log_path=tmp_path / "central.log")
    server.start()
    yield server, new_key
    server.stop()


def settings(tmp_path, client: str, central_url: str, key: str | None) -> dict:
    """Edge settings as environment-style values: SQLite in tmp, loopback BACnet, fast timeouts."""
    return {
        "sqlite_path": str(tmp_path / "edge.db"),
        "meters_file": str(tmp_path / "meters.json"),
        "bacnet_interface": f"{client}/8",
        "bacnet_port": "47809",
        "bacnet_timeout_seconds": "0.5",
        "collection_interval_seconds": "0.5",
        "sync_interval_seconds": "3600",
        "heartbeat_interval_seconds": "1",
        "client_api_url": central_url,
        "client_api_key": key or "",
        "max_retries": "0",
        "log_dir": str(tmp_path / "logs"),
    }


async def call(client: Client, name: str, **arguments):
    """(structured result, error text without the SDK's prefix)."""
    result = await client.call_tool(name, arguments)
    text = " ".join(getattr(c, "text", "") for c in result.content)
    return (None, text.split(": ", 1)[1]) if result.is_error else (result.structured_content, None)


async def until(check, timeout: float = 15.0):
    """Wait for an async check to return a truthy value."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not (value := await check()):
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.2)
    return value


async def test_every_edge_tool_in_memory(fleet, central, tmp_path):
    server, new_key = central
    (tmp_path / "meters.json").write_text(json.dumps(fleet.meters_config()))
    values = settings(tmp_path, "127.0.0.200", server.url, await new_key()) | {"queue_alert_depth": 1}
    agent = EdgeAgent(EdgeSettings(_env_file=None, **values), collect=False)
    await agent.start()
    try:
        async with Client(build_edge_mcp(agent)) as client:
            assert {t.name for t in (await client.list_tools()).tools} == TOOLS
            data, _ = await call(client, "get_meter_status")
            assert sorted(m["external_id"] for m in data["meters"]) == ["meter-001", "meter-002", "meter-003"]

            data, _ = await call(client, "start_collection")
            assert data["collecting"] is True and data["meters_total"] == 3

            async def readings():
                data, _ = await call(client, "query_meter_readings", meter="meter-001")
                return data if data["count"] >= 4 else None

            data = await until(readings)
            assert {i["data_point"] for i in data["items"]} == {"total_kwh", "current_kw"}
            data, _ = await call(
                client, "query_meter_readings", meter="meter-001", point="total_kwh", limit=1
            )
            assert len(data["items"]) == 1 and data["truncated"] is True

            data, _ = await call(client, "stop_collection")
            assert data["collecting"] is False
            data, _ = await call(client, "get_sync_status")
            queued = data["status"]["queue_depth"]
            assert queued > 0 and data["status"]["collecting"] is False

            async def alerts(open_count: int):
                data, _ = await call(client, "get_alerts")
                return data if data["open"] == open_count else None

            data = await until(lambda: alerts(1))  # QUEUE_ALERT_DEPTH=1 here
            assert [a["kind"] for a in data["alerts"] if a["ended_at"] is None] == ["edge_queue"]

            data, _ = await call(client, "trigger_sync")
            assert data["new"] + data["duplicates"] >= queued and data["queue_depth"] == 0
            data = await until(lambda: alerts(0))
            assert data["alerts"][0]["kind"] == "edge_queue" and data["alerts"][0]["ended_at"] is not None
            data, _ = await call(client, "get_sync_status", limit=5)
            assert data["recent_syncs"] and data["recent_syncs"][0]["success"] is True

            data, _ = await call(client, "get_meter_status", meter="meter-002")
            assert [m["reachable"] for m in data["meters"]] == [True]
            data, _ = await call(client, "get_inventory")  # meters.json was proposed to central at start
            assert data["pending"] is False and data["conflicts"] == []
            entry = data["history"][0]  # db/inventory_history.py's entry, spelled as central's MCP does
            assert (entry["version"], entry["origin"], entry["conflicts"]) == (data["version"], "file", [])
            assert entry["createdAt"] and entry["changes"]
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert "InventoryHistoryEntry" in json.dumps(tools["get_inventory"].output_schema)
            data, _ = await call(client, "discover_devices", address_range="127.0.0.201-203")
            assert sorted(d["address"].split(":")[0] for d in data["devices"]) == [
                "127.0.0.201",
                "127.0.0.202",
                "127.0.0.203",
            ]

            _, error = await call(client, "get_meter_status", meter="nope")
            assert error == "unknown meter 'nope'"
            _, error = await call(client, "query_meter_readings", meter="nope")
            assert error.startswith("unknown meter 'nope'; known: meter-001")
            _, error = await call(client, "discover_devices", address_range="not-an-address")
            assert error.startswith("bad address range")
    finally:
        await agent.stop()


AGENT_PASSWORD = "the agent's local password"


async def test_mcp_edge_command_attaches_to_the_running_agent(fleet, tmp_path):
    (tmp_path / "meters.json").write_text(json.dumps(fleet.meters_config()))
    values = settings(tmp_path, "127.0.0.204", "http://127.0.0.1:9/graphql", None)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "LOCAL_POSTGRES"))}
    # the MCP process gets no BACnet settings at all: it must not collect, only talk to the agent
    env |= {"LOCAL_API_PORT": str(port), "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(REPO_ROOT)}
    env |= {"LOCAL_API_PASSWORD": AGENT_PASSWORD}  # the agent's local password, required on loopback too
    env |= {"SQLITE_PATH": str(tmp_path / "not-the-agents.db"), "METERS_FILE": str(tmp_path / "none.json")}
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "meterit.cli", "mcp", "edge"], env=env, cwd=str(tmp_path)
    )
    async with Client(params) as client:
        assert {t.name for t in (await client.list_tools()).tools} == TOOLS
        _, error = await call(client, "get_meter_status")
        assert error.startswith(f"no edge agent answers at http://127.0.0.1:{port}/graphql")

        agent = EdgeAgent(EdgeSettings(_env_file=None, **values), upload=False)
        await agent.start()
        server = LocalApiServer(agent, "127.0.0.1", port, AGENT_PASSWORD)
        await server.start()
        try:
            data, _ = await call(client, "get_meter_status", meter="meter-003")
            assert data["meters"][0]["bacnet_address"].startswith("127.0.0.203")
            data, _ = await call(client, "stop_collection")
            assert data["collecting"] is False and not agent.collecting.is_set()  # the running agent stopped
            data, _ = await call(client, "get_inventory")
            assert data["pending"] is True and data["pending_origin"] == "file"  # central never reached
            assert data["history"] == [] and data["conflicts"] == []
            assert [m["externalId"] for m in data["meters"]] == ["meter-001", "meter-002", "meter-003"], data[
                "meters"
            ][0]
            data, _ = await call(client, "get_sync_status", limit=3)
            assert data["status"]["meters_total"] == 3
        finally:
            await server.stop()
            await agent.stop()
