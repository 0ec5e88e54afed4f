"""End to end: the real API server runs the engine; an admin tightens a rule over GraphQL; the alert panel's
subscription hears alertRaised/alertResolved and the local SMTP server receives both emails."""

import asyncio
import uuid

from gql import Client, gql
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

from db.central.sites import create_site
from db.central.users import create_user
from db.engine import make_engine, make_sessionmaker, session_scope
from tests.support.central_server import CentralServer
from tests.support.smtp import bodies

PASSWORD = "alerts are loud"
HEARTBEAT = """mutation($s: HeartbeatInput!) { heartbeat(status: $s) { siteId status } }"""
STATUS = {"agentVersion": "test", "queueDepth": 0, "meters": []}


async def seed(url: str) -> tuple[int, str, str]:
    """A site (id, key) and an admin's email."""
    engine = make_engine(url, pool_size=1)
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            created = await create_site(session, f"Live {uuid.uuid4().hex[:6]}")
            email = f"admin-{uuid.uuid4().hex[:6]}@example.test"
            await create_user(session, email, PASSWORD, "admin")
        return created.site.id, created.api_key, email
    finally:
        await engine.dispose()


async def run(url: str, query: str, headers: dict, **variables) -> dict:
    """One GraphQL operation over HTTP."""
    client = Client(transport=HTTPXAsyncTransport(url=url, headers=headers, timeout=30))
    async with client as session:
        return await session.execute(gql(query), variable_values=variables or None)


async def first_event(ws_url: str, token: str, field: str, site_id: int, ready: asyncio.Event) -> dict:
    """The first alertRaised/alertResolved event of a site."""
    transport = WebsocketsTransport(
        url=ws_url,
        init_payload={"Authorization": f"Bearer {token}"},
        subprotocols=["graphql-transport-ws"],
        close_timeout=1,
    )
    query = gql(
        f"subscription($s: ID) {{ {field}(siteId: $s) {{ id siteId siteName kind message resolvedAt }} }}"
    )
    async with Client(transport=transport) as session:
        ready.set()
        async for event in session.subscribe(query, variable_values={"s": str(site_id)}):
            return event[field]


async def subscribed(ws_url: str, token: str, field: str, site_id: int) -> asyncio.Task:
    """A task waiting for the first event, started once the subscription is open."""
    ready = asyncio.Event()
    task = asyncio.create_task(first_event(ws_url, token, field, site_id, ready))
    await asyncio.wait_for(ready.wait(), 10)
    await asyncio.sleep(0.5)  # the server registers the subscriber after the connection is acknowledged
    return task


async def test_site_goes_silent_then_back(sessions, alerts_pg_url, sink, tmp_path):
    site_id, key, admin = await seed(alerts_pg_url)
    env = {
        "ALERT_INTERVAL_SECONDS": "0.3",
        "ALERT_RECIPIENTS": "panel@example.test",
        "SMTP_HOST": sink.host,
        "SMTP_PORT": str(sink.port),
        "SMTP_FROM": "meterit@example.test",
        "RATE_LIMIT_PER_MINUTE": "100000",
    }
    server = CentralServer(alerts_pg_url, env=env, log_path=tmp_path / "central.log")
    await asyncio.to_thread(server.start)
    try:
        site_key = {"X-API-Key": key}
        await run(server.url, HEARTBEAT, site_key, s=STATUS)
        login = await run(
            server.url,
            "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { ... on LoginSuccess { token } } }",
            {},
            e=admin,
            p=PASSWORD,
        )
        auth = {"Authorization": f"Bearer {login['login']['token']}"}
        rules = (await run(server.url, "{ alertRules { id kind threshold thresholdUnit } }", auth))[
            "alertRules"
        ]
        rule = next(r for r in rules if r["kind"] == "heartbeat_missing")
        assert (rule["threshold"], rule["thresholdUnit"]) == (10.0, "minutes")
        created = await run(
            server.url,
            'mutation($s: ID!, $r: AlertRuleInput!) { createAlertRule(kind: "edge_queue", siteId: $s, rule: $r) '
            "{ siteId threshold severity recipients } }",
            auth,
            s=str(site_id),
            r={"threshold": 50, "recipients": ["site@example.test"]},
        )
        assert created["createAlertRule"] == {
            "siteId": str(site_id),
            "threshold": 50.0,
            "severity": "warning",
            "recipients": ["site@example.test"],
        }
        report = await run(
            server.url,
            'query($s: [ID!]) { generateReport(siteIds: $s, from: "2026-01-01T00:00:00Z", '
            'to: "2026-01-03T00:00:00Z") { resolution sites { siteId energyKwh periods { start } } csv } }',
            auth,
            s=[str(site_id)],
        )
        [site_report] = report["generateReport"]["sites"]
        assert site_report["energyKwh"] is None and len(site_report["periods"]) == 2
        assert report["generateReport"]["csv"].startswith("site_id,site,meter_id")

        raised = await subscribed(server.ws_url, login["login"]["token"], "alertRaised", site_id)
        await run(
            server.url,
            "mutation($id: ID!, $r: AlertRuleInput!) { updateAlertRule(id: $id, rule: $r) { threshold } }",
            auth,
            id=rule["id"],
            r={"threshold": 0.02},  # 1.2 s without a heartbeat
        )
        event = await asyncio.wait_for(raised, 20)
        assert (
            event["kind"] == "heartbeat_missing"
            and event["siteId"] == str(site_id)
            and event["resolvedAt"] is None
        )
        [mail] = await sink.wait_for(1)
        assert mail["Subject"].startswith(
            f"[MeterIT] ALERT critical: Site {event['siteName']}: not heard from"
        )
        assert mail["To"] == "panel@example.test" and "Status: OPEN" in bodies(mail)[0]

        resolved = await subscribed(server.ws_url, login["login"]["token"], "alertResolved", site_id)
        await run(
            server.url,
            "mutation($id: ID!, $r: AlertRuleInput!) { updateAlertRule(id: $id, rule: $r) { threshold } }",
            auth,
            id=rule["id"],
            r={"threshold": 10},
        )
        await run(server.url, HEARTBEAT, site_key, s=STATUS)
        event = await asyncio.wait_for(resolved, 20)
        assert event["id"] and event["resolvedAt"] is not None
        mails = await sink.wait_for(2)
        assert mails[1]["Subject"].startswith("[MeterIT] RESOLVED: Site ")
        assert len(sink.messages) == 2
    finally:
        await asyncio.to_thread(server.stop)
