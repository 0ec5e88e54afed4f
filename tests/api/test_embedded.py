"""The same API on embedded SQLite (the demo's default) through the ASGI app, and pub/sub reconnection."""

import asyncio
import json
import uuid
from datetime import timedelta

import asyncpg
import httpx

from api.app import create_app
from api.realtime.pubsub import PostgresPubSub
from api.settings import CentralSettings
from db.central.rollups.queue import flush_rollups
from db.clock import utcnow
from db.migrate import upgrade
from tests.api.conftest import PASSWORD, new_site, new_user
from tests.api.test_edge import UPLOAD, readings


async def post(client: httpx.AsyncClient, query: str, headers: dict, **variables) -> dict:
    """One GraphQL POST; the data part of the answer."""
    response = await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def test_upload_replay_and_hourly_query_on_sqlite(sqlite_url):
    await asyncio.to_thread(upgrade, "central", sqlite_url)
    site_id, key = await new_site(sqlite_url)
    email = await new_user(sqlite_url, "viewer", sites=(site_id,))
    app = create_app(CentralSettings(database_url=sqlite_url))
    start = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    batch = {"batchId": "b1", "readings": readings("m1", 90, start)}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://central") as client:
            site = {"X-API-Key": key}
            first = (await post(client, UPLOAD, site, batch=batch))["uploadReadings"]
            again = (await post(client, UPLOAD, site, batch={**batch, "batchId": "b2"}))["uploadReadings"]
            replay = (await post(client, UPLOAD, site, batch=batch))["uploadReadings"]
            await flush_rollups(app.state.sessions)  # the lifespan's worker would fold them in within seconds
            login = await post(
                client,
                "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { ... on LoginSuccess { token } } }",
                {},
                e=email,
                p=PASSWORD,
            )
            user = {"Authorization": "Bearer " + login["login"]["token"]}
            meters = await post(client, "{ meters { id dataPoints { lastValue } } }", user)
            page = await post(
                client,
                'query($m: ID!, $s: DateTime!, $e: DateTime!) { readings(meterId: $m, point: "total_kwh", '
                "start: $s, end: $e, resolution: HOUR) { items { ts count value } } }",
                user,
                m=meters["meters"][0]["id"],
                s=start.isoformat(),
                e=(start + timedelta(hours=2)).isoformat(),
            )
    assert (first["new"], again["new"], again["duplicates"], replay["replayed"]) == (90, 0, 90, True)
    assert meters["meters"][0]["dataPoints"] == [{"lastValue": 189.0}]
    # a kWh register per hour: the energy used in the hour, not the mean of the counter
    assert [(item["count"], item["value"]) for item in page["readings"]["items"]] == [
        (60, 60.0),
        (30, 29.0),
    ]
    assert page["readings"]["items"][0]["ts"].startswith(start.strftime("%Y-%m-%dT%H:00:00"))


async def test_pubsub_reconnects_after_listener_is_killed(central_pg_url):
    pubsub = PostgresPubSub(central_pg_url, reconnect_delay=0.2)
    await pubsub.start()
    received: list[dict] = []

    mine = {"event": "raised", "alert_id": 1, "test": uuid.uuid4().hex}

    async def consume():
        async for payload in pubsub.subscribe("alerts"):
            if payload.get("test") == mine["test"]:  # the shared database's other servers raise real alerts
                received.append(payload)
                return

    task = asyncio.create_task(consume())
    try:
        await asyncio.sleep(0.1)
        dsn = central_pg_url.replace("postgresql+asyncpg://", "postgresql://")
        admin = await asyncpg.connect(dsn)
        try:
            pid = pubsub._listener.get_server_pid()
            await admin.execute("SELECT pg_terminate_backend($1)", pid)
            for _ in range(100):
                await asyncio.sleep(0.1)
                if pubsub._listener.get_server_pid() != pid and not pubsub._listener.is_closed():
                    break
            await admin.execute("SELECT pg_notify('meterit_alerts', $1)", json.dumps(mine))
        finally:
            await admin.close()
        await asyncio.wait_for(task, 10)
    finally:
        task.cancel()
        await pubsub.stop()
    assert received == [mine]
