"""The local API while central goes down and comes back: real central server on PostgreSQL, real HTTP."""

import asyncio

import pytest
from sqlalchemy import text

from db.central.sites import create_site
from db.engine import make_engine
from edge_agent.service import EdgeAgent
from meterit.commands.common import run_in_session
from tests.edge_agent.local_api.site import edge_settings, local_site, write_meters
from tests.support.central_server import CentralServer

pytestmark = pytest.mark.postgres

CLIENT = "127.0.0.220"
STATUS = "{ status { queueDepth centralReachable centralState lastSyncOutcome lastSyncSuccess } }"


@pytest.fixture(scope="module")
def site_key(central_pg_url) -> tuple[int, str]:
    """A new site's id and API key on the session's central database."""

    async def _create(session):
        created = await create_site(session, "Edge API test site", "UTC")
        created.site.collection_interval_seconds = 1.0  # siteConfig's interval overrides the agent's
        return created.site.id, created.api_key

    return run_in_session(central_pg_url, _create)


@pytest.fixture(scope="module")
def central(central_pg_url, tmp_path_factory):
    """The real central server (subprocess), stopped and restarted by the test."""
    log = tmp_path_factory.mktemp("central") / "central.log"
    with CentralServer(central_pg_url, log_path=log) as server:
        yield server


async def test_sync_now_after_central_returns_empties_the_queue(
    fleet, central, site_key, central_pg_url, tmp_path
):
    write_meters(fleet, tmp_path / "meters.json", only=1)
    site_id, key = site_key
    settings = edge_settings(tmp_path, CLIENT, central.url, key)
    async with local_site(settings) as site:
        await site.wait_for(STATUS, lambda d: d["status"]["queueDepth"] >= 2)
        first = await site.data("mutation { triggerSync { outcome acknowledged queueDepth } }")
        assert first["triggerSync"]["outcome"] == "ok"
        assert (await site.data(STATUS))["status"]["centralReachable"] is True

        await asyncio.to_thread(central.stop)
        down = await site.wait_for(STATUS, lambda d: d["status"]["centralReachable"] is False)
        grown = await site.wait_for(
            STATUS, lambda d: d["status"]["queueDepth"] > down["status"]["queueDepth"] + 2
        )
        failed = await site.data("mutation { triggerSync { outcome queueDepth } }")
        assert failed["triggerSync"]["outcome"] == "unreachable"
        assert failed["triggerSync"]["queueDepth"] >= grown["status"]["queueDepth"]

        await asyncio.to_thread(central.start)
        await site.data("mutation { stopCollection { collecting } }")
        await asyncio.sleep(1.0)  # a poll already running when collection stopped still lands in the outbox
        synced = await site.data("mutation { triggerSync { outcome acknowledged queueDepth } }")
        # The heartbeat may have started a sync of its own as soon as central came back: either way, empty.
        assert synced["triggerSync"]["outcome"] == "ok"
        assert synced["triggerSync"]["queueDepth"] == 0
        status = (await site.data(STATUS))["status"]
        assert (status["queueDepth"], status["lastSyncOutcome"], status["lastSyncSuccess"]) == (0, "ok", True)
        local = await site.data('{ readings(meter: "meter-001") { ts } }')
    assert await central_count(central_pg_url, site_id) == len(local["readings"])


async def central_count(url: str, site_id: int) -> int:
    """Readings central holds for one site."""
    engine = make_engine(url)
    query = text(
        "SELECT count(*) FROM readings r JOIN data_points p ON p.id = r.point_id "
        "JOIN meters m ON m.id = p.meter_id WHERE m.site_id = :site"
    )
    try:
        async with engine.connect() as conn:
            return (await conn.execute(query, {"site": site_id})).scalar_one()
    finally:
        await engine.dispose()


OUTAGE = "{ status { centralReachable centralOutage { since seconds alerting } } }"


async def test_long_outage_is_shown_on_site_then_reported_to_central_and_kept_over_a_restart(
    fleet, central, site_key, central_pg_url, tmp_path
):
    write_meters(fleet, tmp_path / "meters.json", only=1)
    site_id, key = site_key
    settings = edge_settings(tmp_path, CLIENT, central.url, key, central_unreachable_alert_minutes=0.03)
    async with local_site(settings) as site:
        up = await site.wait_for(OUTAGE, lambda d: d["status"]["centralReachable"])
        assert up["status"]["centralOutage"] is None
        await asyncio.to_thread(central.stop)
        try:
            down = await site.wait_for(OUTAGE, lambda d: (d["status"]["centralOutage"] or {}).get("alerting"))
        finally:
            await asyncio.to_thread(central.start)
        assert down["status"]["centralOutage"]["seconds"] > 1.8  # the threshold: 0.03 min
        await site.wait_for(OUTAGE, lambda d: d["status"]["centralOutage"] is None)
        last = site.agent.uploader.outage.last
        assert down["status"]["centralOutage"]["since"] == last.started_at.replace(microsecond=0).isoformat()
        health = await wait_for_health(central_pg_url, site_id, last.started_at.isoformat())
    assert health["last_central_outage_ended_at"] == last.ended_at.isoformat()
    restarted = EdgeAgent(settings)
    await restarted.start(bacnet=False, loops_on=False)
    try:
        assert restarted.uploader.outage.last == last
    finally:
        await restarted.stop()


async def wait_for_health(url: str, site_id: int, started: str, timeout: float = 15.0) -> dict:
    """The site's health once a heartbeat reported the outage that started at `started`."""
    engine = make_engine(url)
    try:
        for _ in range(int(timeout / 0.2)):
            async with engine.connect() as conn:
                health = (
                    await conn.execute(text("SELECT health FROM sites WHERE id = :id"), {"id": site_id})
                ).scalar_one()
            if health.get("last_central_outage_started_at") == started:
                return health
            await asyncio.sleep(0.2)
        raise AssertionError(f"central never heard of the outage: {health}")
    finally:
        await engine.dispose()


ALERTS = "{ alerts { kind meter startedAt endedAt message } status { alerts { kind startedAt } } }"


def open_kinds(data: dict) -> set[str]:
    """Kinds of the open alerts in an ALERTS answer."""
    return {a["kind"] for a in data["alerts"] if a["endedAt"] is None}


async def test_edge_alerts_are_raised_and_ended_on_site_then_recorded_once_by_central(
    fleet, site_key, central_pg_url, tmp_path
):
    write_meters(fleet, tmp_path / "meters.json", only=1)
    site_id, key = site_key
    log = tmp_path / "alerting-central.log"
    with CentralServer(central_pg_url, env={"ALERT_INTERVAL_SECONDS": "0.5"}, log_path=log) as central:
        settings = edge_settings(
            tmp_path, CLIENT, central.url, key, central_unreachable_alert_minutes=0.03, queue_alert_depth=2
        )
        async with local_site(settings) as site:
            await site.wait_for(OUTAGE, lambda d: d["status"]["centralReachable"])
            await asyncio.to_thread(central.stop)
            try:  # central is down: the edge decides on its own, and its dashboard's status carries them
                down = await site.wait_for(
                    ALERTS, lambda d: open_kinds(d) == {"central_unreachable", "edge_queue"}
                )
                assert {a["kind"] for a in down["status"]["alerts"]} == open_kinds(down)
                await site.data("mutation { stopCollection { collecting } }")
            finally:
                await asyncio.to_thread(central.start)
            back = await site.wait_for(ALERTS, lambda d: not open_kinds(d), timeout=30)
            queue = next(a for a in back["alerts"] if a["kind"] == "edge_queue")
            recorded = await wait_for_alert_rows(central_pg_url, site_id, "edge_queue")
            await asyncio.sleep(
                2.0
            )  # several more heartbeats repeat the report, and several engine ticks pass
            again = await wait_for_alert_rows(central_pg_url, site_id, "edge_queue")
    assert len(recorded) == len(again) == 1
    opened, resolved = recorded[0]
    assert opened.isoformat() == queue["startedAt"] and resolved.isoformat() == queue["endedAt"]


async def wait_for_alert_rows(url: str, site_id: int, kind: str, timeout: float = 20.0) -> list:
    """(opened_at, resolved_at) of a site's alerts of a kind, once there is at least one."""
    engine = make_engine(url)
    query = text("SELECT opened_at, resolved_at FROM alerts WHERE site_id = :id AND kind = :kind")
    try:
        for _ in range(int(timeout / 0.2)):
            async with engine.connect() as conn:
                rows = (await conn.execute(query, {"id": site_id, "kind": kind})).all()
            if rows:
                return [tuple(r) for r in rows]
            await asyncio.sleep(0.2)
        raise AssertionError(f"central recorded no {kind} alert for site {site_id}")
    finally:
        await engine.dispose()
