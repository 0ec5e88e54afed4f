"""The fleet overview query over real HTTP: status filter and counts, search, sort, paging, staleness, SQL count."""

import uuid
from datetime import timedelta

import pytest
from gql.transport.exceptions import TransportQueryError
from sqlalchemy import event

from db.central.fleet import fleet_page
from db.central.ingest.batch import insert_rows
from db.central.models import Alert, DataPoint, Meter, Site
from db.clock import utcnow
from db.engine import make_engine, make_sessionmaker, session_scope
from tests.api.conftest import execute, grant, http_client, in_session, new_site

FLEET = """
query($status: FleetStatus, $search: String, $sort: FleetSort!, $first: Int!, $offset: Int!) {
  fleet(status: $status, search: $search, sort: $sort, first: $first, offset: $offset) {
    total sitesOffline todayEnergyKwh openAlerts
    counts { online degraded offline maintenance unknown }
    items { openAlerts powerToday site { id name status maintenance ageSeconds stale metersTotal
            metersReachable todayEnergyKwh meters { externalId state ageSeconds staleAfterSeconds
            dataPoints { name ageSeconds stale } } } }
  }
}"""

# (status, maintenance, minutes since last contact, meters reachable and last seen minutes ago)
LAYOUT = {
    "alpha": ("online", False, 0.2, [(True, 0.2)]),
    "bravo": ("degraded", False, 0.3, [(True, 0.3), (False, 5)]),
    "charlie": ("offline", False, 10, [(True, 10)]),
    "delta": ("online", True, 0.1, []),
    "echo": ("offline", False, 30, []),
}


@pytest.fixture(scope="module")
def fleet(central, central_pg_url, viewer_token):
    """Five sites under one unique prefix (the viewer's), in every state, with meters, an alert and power."""
    prefix = f"fleet-{uuid.uuid4().hex[:6]}-"
    now = utcnow()

    async def arrange(session):
        ids = {}
        for name, (status, maintenance, minutes, meters) in LAYOUT.items():
            site = await session.get(Site, ids.setdefault(name, sites[name]))
            site.status, site.maintenance = status, maintenance
            site.last_contact_at = now - timedelta(minutes=minutes)
            for i, (reachable, seen) in enumerate(meters):
                meter = Meter(site_id=site.id, external_id=f"m{i}", name=f"Meter {i}", reachable=reachable,
                              last_seen_at=now - timedelta(minutes=seen))  # fmt: skip
                session.add(meter)
                await session.flush()
                point = DataPoint(meter_id=meter.id, name="power", unit="kilowatts")
                session.add(point)
                await session.flush()
                if status == "degraded":  # two readings of 15 kW this hour on each of its meters
                    hour = now.replace(minute=0, second=0, microsecond=0)
                    rows = [(point.id, hour + timedelta(seconds=n), 15.0, 0) for n in (0, 1)]
                    await insert_rows(session, rows)
        session.add(Alert(site_id=sites["charlie"], kind="site_offline", severity="critical", message="x"))
        return ids

    import asyncio

    sites = {name: asyncio.run(new_site(central_pg_url, prefix + name))[0] for name in LAYOUT}
    asyncio.run(in_session(central_pg_url, arrange))
    for site_id in sites.values():
        asyncio.run(grant(central_pg_url, viewer_token.email, site_id))
    return prefix, sites


async def fleet_query(central, token, **variables):
    """Run the fleet query with defaults."""
    args = {"status": None, "search": None, "sort": "NAME", "first": 24, "offset": 0, **variables}
    return (await execute(http_client(central.url, token=token), FLEET, **args))["fleet"]


async def test_counts_filter_and_totals(central, viewer_token, fleet):
    prefix, sites = fleet
    page = await fleet_query(central, viewer_token, search=prefix)
    assert page["counts"] == {"online": 1, "degraded": 1, "offline": 2, "maintenance": 1, "unknown": 0}
    assert page["total"] == 5 and page["sitesOffline"] == 2
    assert page["openAlerts"] >= 1
    offline = await fleet_query(central, viewer_token, search=prefix, status="OFFLINE")
    assert offline["total"] == 2
    assert [i["site"]["name"] for i in offline["items"]] == [prefix + "charlie", prefix + "echo"]
    assert offline["items"][0]["openAlerts"] == 1
    maintenance = await fleet_query(central, viewer_token, search=prefix, status="MAINTENANCE")
    assert [i["site"]["name"] for i in maintenance["items"]] == [prefix + "delta"]


async def test_sort_and_paging(central, viewer_token, fleet):
    prefix, _ = fleet
    worst = await fleet_query(central, viewer_token, search=prefix, sort="STATUS")
    assert [i["site"]["status"] for i in worst["items"]][:3] == ["offline", "offline", "degraded"]
    silent = await fleet_query(central, viewer_token, search=prefix, sort="LAST_HEARD")
    assert silent["items"][0]["site"]["name"] == prefix + "echo"
    pages = [await fleet_query(central, viewer_token, search=prefix, first=2, offset=o) for o in (0, 2, 4)]
    names = [i["site"]["name"] for p in pages for i in p["items"]]
    assert names == [prefix + n for n in sorted(LAYOUT)]
    assert all(p["total"] == 5 for p in pages)


async def test_staleness_of_sites_meters_and_values(central, viewer_token, fleet):
    prefix, _ = fleet
    items = {
        i["site"]["name"][len(prefix) :]: i
        for i in (await fleet_query(central, viewer_token, search=prefix))["items"]
    }
    assert items["alpha"]["site"]["stale"] is False and items["charlie"]["site"]["stale"] is True
    assert 550 < items["charlie"]["site"]["ageSeconds"] < 900
    [fresh] = items["alpha"]["site"]["meters"]
    [old] = items["charlie"]["site"]["meters"]
    assert fresh["state"] == "reachable" and old["state"] == "stale"  # reachable at its last report only
    assert old["staleAfterSeconds"] == 180.0 and old["ageSeconds"] > 180
    assert [m["state"] for m in items["bravo"]["site"]["meters"]] == ["reachable", "unreachable"]
    assert items["bravo"]["site"]["metersReachable"] == 1
    assert old["dataPoints"] == [{"name": "power", "ageSeconds": None, "stale": True}]


async def test_power_sparkline_is_today_per_hour(central, viewer_token, fleet):
    prefix, _ = fleet
    items = (await fleet_query(central, viewer_token, search=prefix, status="DEGRADED"))["items"]
    power = items[0]["powerToday"]
    assert len(power) == utcnow().hour + 1  # sites are in UTC: one slot per hour since midnight
    assert power[-1] == 30.0 and set(power[:-1]) <= {None}  # two meters × mean 15 kW this hour


async def test_bad_arguments_are_clear_errors(central, viewer_token):
    with pytest.raises(TransportQueryError, match="first must be 1 to 200"):
        await fleet_query(central, viewer_token, first=0)
    with pytest.raises(TransportQueryError, match="offset must not be negative"):
        await fleet_query(central, viewer_token, offset=-1)
    with pytest.raises(TransportQueryError, match="FleetStatus"):
        await fleet_query(central, viewer_token, status="SLEEPY")


async def test_fleet_requires_login(central):
    with pytest.raises(TransportQueryError, match="not authenticated"):
        await execute(http_client(central.url), "{ fleet { total } }")


async def test_one_page_costs_the_same_queries_whatever_its_size(central_pg_url, fleet):
    engine = make_engine(central_pg_url, pool_size=1)
    statements = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *a, **k: statements.append(a[2]))
    try:
        counts = []
        for size in (1, 5):
            statements.clear()
            async with session_scope(make_sessionmaker(engine)) as session:
                page = await fleet_page(session, utcnow(), search=fleet[0], limit=size)
            assert len(page.sites) == size
            counts.append(len(statements))
    finally:
        await engine.dispose()
    assert counts[0] == counts[1] <= 8, counts
