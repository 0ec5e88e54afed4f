"""The local API of a real `meterit edge run` process: the agent as it ships (its own memory settings, the modules it
keeps out) serves logins, queries of what it collected over BACnet, and subscriptions."""

import asyncio
import subprocess
import sys

import httpx
import pytest

from tests.edge_agent.local_api.site import (
    LOCAL_PASSWORD,
    LOGIN,
    LocalSite,
    dead_central_url,
    free_port,
    take,
    write_meters,
    ws_client,
)
from tests.support.central_server import REPO_ROOT

CLIENT = "127.0.0.225"  # in this folder's block (site.py); meters of the module's fleet at .221 up


class _Api:
    """Just what LocalSite needs of a server: its URL."""

    def __init__(self, url: str) -> None:
        self.url = url


@pytest.fixture
async def agent_process(fleet, tmp_path):
    """`meterit edge run` polling meter-001 every second, central down, its local API on a free port."""
    write_meters(fleet, tmp_path / "meters.json", only=1)
    port = free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(REPO_ROOT),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/edge.db",
        "METERS_FILE": str(tmp_path / "meters.json"),
        "BACNET_INTERFACE": f"{CLIENT}/8",
        "BACNET_PORT": "47809",
        "COLLECTION_INTERVAL_SECONDS": "1",
        "CLIENT_API_URL": dead_central_url(),
        "CLIENT_API_KEY": "site-key-of-a-dead-central",
        "METRICS_PORT": "0",
        "LOCAL_API_PORT": str(port),
        "LOCAL_API_PASSWORD": LOCAL_PASSWORD,
        "LOG_DIR": str(tmp_path / "logs"),
    }
    with open(tmp_path / "edge.log", "wb") as log:
        agent = subprocess.Popen(
            [sys.executable, "-m", "meterit.cli", "edge", "run"],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    site = LocalSite(None, _Api(f"http://127.0.0.1:{port}/graphql"))
    try:
        for _ in range(240):
            assert agent.poll() is None, (tmp_path / "edge.log").read_text()
            try:
                await site.gql("{ loginRequired }", token="")
                break
            except httpx.TransportError:
                await asyncio.sleep(0.25)
        site.token = (await site.data(LOGIN, {"p": LOCAL_PASSWORD}))["login"]["token"]
        yield site, agent.pid
    finally:
        agent.terminate()
        agent.wait(30)


async def test_the_shipped_agent_serves_its_local_api(agent_process):
    site, pid = agent_process
    query = '{ readings(meter: "meter-001", point: "total_kwh") { value unit } }'
    readings = (await site.wait_for(query, lambda d: len(d["readings"]) >= 2))["readings"]
    assert readings[0]["unit"]
    events = await take(
        ws_client(site.url, site.init_payload), "subscription { statusChanged { collecting } }", 1
    )
    assert events[0]["statusChanged"]["collecting"] is True
    with open(f"/proc/{pid}/maps") as maps:  # native extensions the agent keeps out (edge_agent/memory.py)
        mapped = maps.read()
    assert "watchfiles" not in mapped and "greenlet" not in mapped
