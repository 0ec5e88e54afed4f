"""An on-site stack for the local API tests: simulated meters on 127.0.0.221+, an EdgeAgent, its local API.

Addresses 127.0.0.220-127.0.0.239 belong to these tests (and the ui_edge browser tests): the agent's BACnet
client is 127.0.0.220:47809 (API tests) or 127.0.0.230:47809 (browser tests), meters count up from .221 / .231.
"""

import asyncio
import contextlib
import json
import socket
from pathlib import Path
from typing import Any

import httpx
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport

from edge_agent.local_api import LocalApiServer
from edge_agent.service import EdgeAgent
from edge_agent.settings import EdgeSettings
from edge_agent.simulator import SimulatorFleet


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def dead_central_url() -> str:
    """A GraphQL URL where nothing listens (central down)."""
    return f"http://127.0.0.1:{free_port()}/graphql"


def edge_settings(
    tmp: Path, client: str, central_url: str, api_key: str | None, **extra: Any
) -> EdgeSettings:
    """Settings of a fast-cycling test agent on SQLite in tmp."""
    values = {
        "database_url": f"sqlite+aiosqlite:///{tmp}/edge.db",
        "meters_file": str(tmp / "meters.json"),
        "bacnet_interface": f"{client}/8",
        "bacnet_port": 47809,
        "bacnet_timeout_seconds": 1.5,
        "collection_interval_seconds": 1.0,
        "sync_interval_seconds": 3600.0,
        "heartbeat_interval_seconds": 1.0,
        "client_api_url": central_url,
        "client_api_key": api_key,
        "http_timeout_seconds": 3.0,
        "max_retries": 0,
        "backoff_max_seconds": 1.0,
        "log_dir": str(tmp / "logs"),
        **extra,
    }
    return EdgeSettings(_env_file=None, **values)


def write_meters(fleet: SimulatorFleet, path: Path, only: int | None = None) -> None:
    """meters.json for the fleet (or its first `only` meters)."""
    document = fleet.meters_config()
    if only is not None:
        document["meters"] = document["meters"][:only]
    path.write_text(json.dumps(document), encoding="utf-8")


class LocalSite:
    """A running agent and its local API; `gql(query)` over HTTP, `subscribe(query)` over websockets."""

    def __init__(self, agent: EdgeAgent, server: LocalApiServer) -> None:
        self.agent, self.server = agent, server
        self.token = ""  # set by local_site after logging in with its password

    @property
    def init_payload(self) -> dict:
        """The websocket connection_init payload carrying the token."""
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def url(self) -> str:
        """The local GraphQL endpoint."""
        return self.server.url

    async def gql(self, query: str, variables: dict | None = None, token: str | None = None) -> dict:
        """POST one operation with the site's token (or this token; "" for none); the whole JSON body."""
        token = self.token if token is None else token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with httpx.AsyncClient(timeout=30) as client:
            response = await client.post(
                self.url, json={"query": query, "variables": variables or {}}, headers=headers
            )
        response.raise_for_status()
        return response.json()

    async def data(self, query: str, variables: dict | None = None) -> dict:
        """The data of an operation that must succeed."""
        body = await self.gql(query, variables)
        assert not body.get("errors"), body["errors"]
        return body["data"]

    async def wait_for(self, query: str, check, timeout: float = 15.0, variables: dict | None = None) -> dict:
        """Poll a query until check(data) is true; the last data otherwise fails the assertion."""
        data: dict = {}
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            data = await self.data(query, variables)
            if check(data):
                return data
            await asyncio.sleep(0.3)
        raise AssertionError(f"condition not met within {timeout} s; last answer {data}")


def ws_client(url: str, init_payload: dict | None = None) -> Client:
    """A gql client over websockets (graphql-transport-ws) for the local API."""
    transport = WebsocketsTransport(
        url=url.replace("http://", "ws://"),
        init_payload=init_payload or {},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )
    return Client(transport=transport, fetch_schema_from_transport=False)


async def take(
    client: Client, query: str, count: int, timeout: float = 15.0, variables: dict | None = None
) -> list:
    """The first `count` payloads of a subscription."""
    out: list = []

    async def _run() -> None:
        async with client as session:
            async for payload in session.subscribe(gql(query), variable_values=variables or {}):
                out.append(payload)
                if len(out) >= count:
                    return

    await asyncio.wait_for(_run(), timeout)
    return out


LOCAL_PASSWORD = "local test password"
LOGIN = "mutation($p: String!) { login(password: $p) { ... on LoginSuccess { token } } }"


@contextlib.asynccontextmanager
async def local_site(
    settings: EdgeSettings, password: str = LOCAL_PASSWORD, host: str = "127.0.0.1", allowed_hosts: tuple = ()
):
    """Start an agent and its local API (its password required, on loopback too), logged in; stop both after."""
    agent = EdgeAgent(settings)
    await agent.start()
    server = LocalApiServer(agent, host, free_port(), password, allowed_hosts=allowed_hosts)
    try:
        await server.start()
        site = LocalSite(agent, server)
        site.token = (await site.data(LOGIN, {"p": password}))["login"]["token"]
        yield site
    finally:
        await server.stop()
        await agent.stop()
