"""Subscriptions over real websockets: events from another server process, offline monitor, rejection."""

import asyncio
from datetime import timedelta

import pytest
from gql import gql

from db.clock import utcnow
from tests.api.conftest import execute, grant, http_client, new_site, ws_client
from tests.api.test_edge import HEARTBEAT, readings, upload

STATUS = "subscription($s: ID) { siteStatusChanged(siteId: $s) { siteId status queueDepth } }"
ADDED = "subscription($s: ID) { readingsAdded(siteId: $s) { siteId count latest { dataPoint value } } }"


async def collect(client, query: str, variables: dict, wanted: int, into: list) -> None:
    """Append events of one subscription to `into` until `wanted` arrived."""
    async with client as session:
        async for event in session.subscribe(gql(query), variable_values=variables):
            into.append(event)
            if len(into) >= wanted:
                return


async def until(condition, timeout: float = 15.0) -> None:
    """Wait until condition() is true."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("protocol", ["graphql-transport-ws", "graphql-ws"])
async def test_event_from_another_process_reaches_subscriber(
    protocol, central, redis_central, central_pg_url, viewer_token
):
    other = redis_central  # a second server process on the same database
    site_id, key = await new_site(central_pg_url)
    await grant(central_pg_url, viewer_token.email, site_id)
    events: list = []
    task = asyncio.create_task(
        collect(ws_client(other.ws_url, viewer_token, protocol), ADDED, {"s": str(site_id)}, 1, events)
    )
    await asyncio.sleep(1.0)  # let the subscription register before publishing
    await upload(central.url, key, readings("meter-9", 3, utcnow() - timedelta(minutes=10)))
    await asyncio.wait_for(task, 15)
    event = events[0]["readingsAdded"]
    assert event["siteId"] == str(site_id) and event["count"] == 3
    assert event["latest"] == [{"dataPoint": "total_kwh", "value": 102.0}]


async def test_monitor_marks_silent_site_offline(central_server_factory, central_pg_url, viewer_token):
    server = central_server_factory(
        central_pg_url, env={"OFFLINE_AFTER_MINUTES": "0.03"}, args=["--no-migrate"]
    )
    site_id, key = await new_site(central_pg_url)
    await grant(central_pg_url, viewer_token.email, site_id)
    events: list = []
    task = asyncio.create_task(
        collect(ws_client(server.ws_url, viewer_token), STATUS, {"s": str(site_id)}, 3, events)
    )
    await asyncio.sleep(1.0)
    status = {"agentVersion": "1", "queueDepth": 7, "meters": []}
    await execute(http_client(server.url, key=key), HEARTBEAT, status=status)
    await asyncio.wait_for(task, 20)
    # The request itself is contact (api/http/contact.py), then the heartbeat's health, then silence.
    assert [e["siteStatusChanged"]["status"] for e in events] == ["online", "online", "offline"]
    assert [e["siteStatusChanged"]["queueDepth"] for e in events[:2]] == [None, 7]


async def test_websocket_without_valid_token_is_rejected(central):
    events: list = []
    with pytest.raises(Exception) as caught:
        await asyncio.wait_for(collect(ws_client(central.ws_url, "not-a-token"), STATUS, {}, 1, events), 10)
    assert events == []
    assert "invalid" in str(caught.value).lower() or caught.type.__name__.startswith("Transport")
