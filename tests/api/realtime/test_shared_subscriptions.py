"""Shared subscription executions over real websockets: one execution per scope, identical frames, no leaks."""

import asyncio
import json
import re
from datetime import timedelta

import httpx
import websockets

from db.central.grants import remove_grant
from db.central.users import find_user
from db.clock import utcnow
from tests.api.conftest import in_session, login, new_site, new_user
from tests.api.realtime.test_subscriptions import until
from tests.api.test_edge import readings, upload

ADDED = "subscription { readingsAdded { siteId count latest { dataPoint value } } }"  # every site in scope
STATUS = "subscription($s: ID) { siteStatusChanged(siteId: $s) { siteId } }"  # refused out of scope


class Socket:
    """A graphql-transport-ws socket that keeps every raw `next` and `error` frame, by operation id."""

    def __init__(self, ws) -> None:
        self.ws, self.frames, self.reader = ws, {}, None

    @classmethod
    async def open(cls, server, token: str) -> "Socket":
        """Connected and acknowledged."""
        ws = await websockets.connect(server.ws_url, subprotocols=["graphql-transport-ws"])
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        assert json.loads(await asyncio.wait_for(ws.recv(), 30))["type"] == "connection_ack"
        socket = cls(ws)
        socket.reader = asyncio.create_task(socket._read())
        return socket

    async def _read(self) -> None:
        async for raw in self.ws:
            message = json.loads(raw)
            if message["type"] in ("next", "error"):
                self.frames.setdefault(message["id"], []).append(raw)

    async def subscribe(self, operation_id: str, query: str, variables: dict | None = None) -> None:
        """Start an operation."""
        payload = {"query": query, "variables": variables or {}}
        await self.ws.send(json.dumps({"id": operation_id, "type": "subscribe", "payload": payload}))

    def events(self, operation_id: str = "1") -> list[dict]:
        """The readingsAdded events received by an operation."""
        return [
            json.loads(raw)["payload"]["data"]["readingsAdded"] for raw in self.frames.get(operation_id, [])
        ]

    async def close(self) -> None:
        """Close the socket and stop reading."""
        await self.ws.close()
        self.reader.cancel()


async def gauge(server, name: str) -> float:
    """The value of an unlabelled or summed gauge on the server's /metrics."""
    async with httpx.AsyncClient(timeout=30) as client:
        text = (await client.get(server.base_url + "/metrics")).text
    return sum(float(v) for v in re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.MULTILINE))


async def test_subscribers_with_one_scope_share_an_execution_and_no_scope_sees_another_site(
    central, central_pg_url
):
    a, key_a = await new_site(central_pg_url)
    b, key_b = await new_site(central_pg_url)
    scopes = {"a1": (a,), "a2": (a,), "ab": (a, b), "b": (b,), "moved": (a, b)}
    emails = {name: await new_user(central_pg_url, sites=sites) for name, sites in scopes.items()}
    executions_before = await gauge(central, "meterit_subscription_executions")
    sockets = {
        name: await Socket.open(central, await login(central.url, email)) for name, email in emails.items()
    }
    try:
        for socket in sockets.values():
            await socket.subscribe("1", ADDED)
        # five subscribers, three scopes ({a}, {a, b}, {b}): three executions
        await _until_async(lambda: gauge(central, "meterit_subscription_executions"), executions_before + 3)
        await asyncio.sleep(0.5)  # the executions' resolvers reach pub/sub

        start = utcnow() - timedelta(minutes=30)
        await upload(central.url, key_b, readings("meter-b", 2, start, value0=500.0))
        await upload(central.url, key_a, readings("meter-a", 3, start, value0=100.0))
        await until(lambda: len(sockets["a1"].events()) >= 1 and len(sockets["a2"].events()) >= 1)
        await until(lambda: len(sockets["ab"].events()) >= 2 and len(sockets["b"].events()) >= 1)

        expected_a = {"siteId": str(a), "count": 3, "latest": [{"dataPoint": "total_kwh", "value": 102.0}]}
        expected_b = {"siteId": str(b), "count": 2, "latest": [{"dataPoint": "total_kwh", "value": 501.0}]}
        # site b's event was published before site a's: a subscriber of {a} that had it would have it first
        assert sockets["a1"].events() == [expected_a]
        assert sockets["a1"].frames["1"] == sockets["a2"].frames["1"]  # the same frame, byte for byte
        assert sockets["b"].events() == [expected_b]
        assert sockets["ab"].events() == [expected_b, expected_a]
        assert sockets["moved"].frames["1"] == sockets["ab"].frames["1"]

        # "moved" loses site b; its next subscribe re-reads its scope, and its first operation follows the
        # execution of its new scope from then on, never again the one it shared with "ab"
        async def take_b(session):
            await remove_grant(session, (await find_user(session, emails["moved"])).id, b)

        await in_session(central_pg_url, take_b)
        await sockets["moved"].subscribe("2", STATUS, {"s": str(b)})
        await until(lambda: "2" in sockets["moved"].frames)  # refused: the scope was re-read
        assert "no site with id" in sockets["moved"].frames["2"][0]
        await upload(central.url, key_b, readings("meter-b", 1, start - timedelta(hours=1), value0=700.0))
        await upload(central.url, key_a, readings("meter-a", 1, start - timedelta(hours=1), value0=300.0))
        await until(lambda: len(sockets["moved"].events()) >= 3 and len(sockets["a1"].events()) >= 2)
        await until(lambda: len(sockets["ab"].events()) >= 4)
        later_a = {"siteId": str(a), "count": 1, "latest": [{"dataPoint": "total_kwh", "value": 300.0}]}
        later_b = {"siteId": str(b), "count": 1, "latest": [{"dataPoint": "total_kwh", "value": 700.0}]}
        assert sockets["moved"].events() == [expected_b, expected_a, later_a]
        assert sockets["a1"].events() == [expected_a, later_a]
        assert sockets["ab"].events() == [expected_b, expected_a, later_b, later_a]
    finally:
        for socket in sockets.values():
            await socket.close()


async def _until_async(read, wanted: float, timeout: float = 30.0) -> None:
    """Wait until the awaited read() reaches wanted."""
    deadline = asyncio.get_running_loop().time() + timeout
    while await read() < wanted:
        assert asyncio.get_running_loop().time() < deadline, f"never reached {wanted}"
        await asyncio.sleep(0.1)
