"""The site's time zone and simulated history between central and the edge, over real HTTP.

A real central (`meterit api` on PostgreSQL) states the site's zone in siteConfig; the edge caches it with the
config (it stays across a restart while central is unreachable) and shows it in its local API. The edge reports
the span of its simulated history with each heartbeat and central shows it on the site.
"""

import asyncio
import uuid
from datetime import timedelta

import pytest

from db.central.sites import create_site
from db.clock import utcnow
from edge_agent.site_sync import record_simulated_history
from tests.api.conftest import execute, http_client, in_session, login, new_user
from tests.edge_agent.conftest import make_edge_db
from tests.edge_agent.local_api.site import dead_central_url, edge_settings, local_site, write_meters

pytestmark = pytest.mark.postgres

CLIENT = "127.0.0.220"
STATUS = "{ status { siteTimezone simulatedFrom simulatedUntil } }"
SITE = "query($id: ID!) { site(id: $id) { timezone simulatedFrom simulatedUntil } }"


async def test_the_edge_learns_the_sites_zone_keeps_it_offline_and_reports_its_simulated_history(
    fleet, edge_central, central_pg_url, tmp_path
):
    async def berlin(session):
        created = await create_site(session, f"zone-{uuid.uuid4().hex[:8]}", "Europe/Berlin")
        return created.site.id, created.api_key

    site_id, key = await in_session(central_pg_url, berlin)
    write_meters(fleet, tmp_path / "meters.json", only=1)
    edge_db = await make_edge_db(f"sqlite+aiosqlite:///{tmp_path}/edge.db")
    end = utcnow().replace(microsecond=0)
    start = end - timedelta(days=30)
    await record_simulated_history(edge_db, start, end)
    await edge_db.dispose()

    # never heard from central: no zone (the dashboard says UTC)
    async with local_site(edge_settings(tmp_path, CLIENT, dead_central_url(), key)) as site:
        status = (await site.data(STATUS))["status"]
        assert status["siteTimezone"] is None
        assert (status["simulatedFrom"], status["simulatedUntil"]) == (start.isoformat(), end.isoformat())

    admin = http_client(
        edge_central.url, token=await login(edge_central.url, await new_user(central_pg_url, "admin"))
    )
    expected = {
        "timezone": "Europe/Berlin",
        "simulatedFrom": start.isoformat(),
        "simulatedUntil": end.isoformat(),
    }
    async with local_site(edge_settings(tmp_path, CLIENT, edge_central.url, key)) as site:
        await site.wait_for(STATUS, lambda d: d["status"]["siteTimezone"] == "Europe/Berlin", timeout=30)
        for _ in range(150):  # the next heartbeat (every second) carries the span
            seen = (await execute(admin, SITE, id=str(site_id)))["site"]
            if seen == expected:
                break
            await asyncio.sleep(0.2)
        assert seen == expected

    # restarted with central unreachable: the cached siteConfig still gives the zone
    async with local_site(edge_settings(tmp_path, CLIENT, dead_central_url(), key)) as site:
        assert (await site.data(STATUS))["status"]["siteTimezone"] == "Europe/Berlin"
