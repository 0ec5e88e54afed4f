"""End-to-end: simulated meters → edge outbox → central, through outages, crashes and dead meters.

Every test runs real processes (`meterit simulate`, `meterit edge`, `meterit api`) on loopback against a
fresh PostgreSQL database, and compares what the collector committed with what central stored.
"""

import random
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from db.central.users import create_user
from db.clock import utcnow
from tests.e2e.site import E2ESite, float32
from tests.e2e.support import as_key_set, outbox_depth, query_rows
from tests.support.figures import report


@pytest.fixture
def site_factory(new_pg_database, tmp_path):
    """Start an E2ESite on its own addresses; stopped after the test."""
    sites = []

    def _make(base_address: str, interface: str, meters: int = 3) -> E2ESite:
        site = E2ESite(tmp_path, new_pg_database(), base_address, meters, interface)
        sites.append(site)
        return site.start()

    yield _make
    for site in sites:
        site.stop()


def login_token(site: E2ESite) -> str:
    """Create a viewer and log in through the API."""
    import asyncio

    from db.central.grants import set_grant
    from db.central.sites import list_sites
    from db.engine import make_engine, make_sessionmaker, session_scope

    async def _user():
        engine = make_engine(site.central_db)
        async with session_scope(make_sessionmaker(engine)) as session:
            viewer = await create_user(session, "viewer@e2e.test", "viewer-password", "viewer")
            for found in await list_sites(session):  # a viewer reads only the sites granted it
                await set_grant(session, viewer.id, found.id, "viewer")
        await engine.dispose()

    asyncio.run(_user())
    answer = httpx.post(
        site.central.url,
        json={
            "query": 'mutation { login(email: "viewer@e2e.test", password: "viewer-password") { ... on LoginSuccess { token } } }'
        },
    ).json()
    return answer["data"]["login"]["token"]


def gql(site: E2ESite, token: str, query: str, **variables) -> dict:
    """One dashboard query against central."""
    answer = httpx.post(
        site.central.url,
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ).json()
    assert not answer.get("errors"), answer
    return answer["data"]


def test_full_flow_meter_to_central_query(site_factory):
    site = site_factory("127.0.3.10", "127.0.3.1")
    site.wait_until(lambda: site.collected_rows(), 60, "first collected reading")
    meter, point, ts, value = sorted(site.collected_rows(), key=lambda r: str(r[2]))[0]
    key = next(iter(as_key_set([(meter, point, ts)])))
    site.wait_until(lambda: key in site.central_keys(), 60, "the reading in central")
    in_outbox = "SELECT count(*) FROM outbox WHERE meter_external_id = :m AND data_point = :p AND ts = :t"
    site.wait_until(
        lambda: query_rows(site.edge_db, in_outbox, m=meter, p=point, t=ts)[0][0] == 0, 30, "outbox removal"
    )

    token = login_token(site)
    meters = gql(site, token, "{ meters { id externalId } }")["meters"]
    meter_id = next(m["id"] for m in meters if m["externalId"] == meter)
    when = (
        datetime.fromisoformat(str(ts)).replace(tzinfo=UTC) if isinstance(ts, str) else ts.replace(tzinfo=UTC)
    )
    page = gql(
        site,
        token,
        "query($m: ID!, $p: String!, $s: DateTime!, $e: DateTime!) { readings(meterId: $m, point: $p, start: $s, end: $e) { items { ts value } } }",
        m=meter_id,
        p=point,
        s=(when - timedelta(milliseconds=1)).isoformat(),
        e=(when + timedelta(milliseconds=1)).isoformat(),
    )["readings"]["items"]
    assert [(datetime.fromisoformat(item["ts"]), round(item["value"], 3)) for item in page] == [
        (when, round(value, 3))
    ]
    report(
        f"full flow: {meter}/{point} at {when.isoformat()} = {value} reached central's query and left the outbox"
    )


def test_offline_recovery_delivers_every_queued_reading_once(site_factory):
    site = site_factory("127.0.3.20", "127.0.3.2")
    site.wait_until(lambda: site.central_count() > 0, 60, "first upload")
    site.central.stop()
    depth_at_stop = outbox_depth(site.edge_db)
    site.wait_until(
        lambda: outbox_depth(site.edge_db) >= depth_at_stop + 12, 60, "queue growth while central is down"
    )
    queued = outbox_depth(site.edge_db)
    site.central.start()
    site.wait_until(lambda: outbox_depth(site.edge_db) < 6, 90, "backlog drained after central came back")
    site.stop_edge()
    site.drain()
    collected = site.collected_rows()
    assert site.central_keys() == as_key_set(collected)
    assert site.central_count() == len(collected)
    report(
        f"offline recovery: {queued} queued while central was down; {len(collected)} collected = {site.central_count()} in central"
    )


def test_faults_lose_nothing_and_duplicate_nothing(site_factory, pg_server):
    site = site_factory("127.0.3.30", "127.0.3.3")
    site.wait_until(lambda: site.central_count() > 0, 60, "first upload")
    rng = random.Random(20261127)
    faults = {"edge SIGKILL": 0, "central SIGKILL": 0, "database connections killed": 0}
    for round_number in range(8):
        # Let the restarted agent get back to work (collecting and uploading), then kill it at a random moment.
        before = len(site.collected_rows())
        site.wait_until(
            lambda before=before: len(site.collected_rows()) > before, 60, "the restarted edge collecting"
        )
        time.sleep(rng.uniform(0.2, 2.0))
        site.kill_edge()
        faults["edge SIGKILL"] += 1
        if round_number == 2:
            site.central.kill()
            faults["central SIGKILL"] += 1
            time.sleep(1.5)
            site.central.start()
        if round_number in (4, 6):
            name = site.central_db.rsplit("/", 1)[1]
            query_rows(
                pg_server.replace("postgresql://", "postgresql+asyncpg://"),
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d AND pid <> pg_backend_pid()",
                d=name,
            )
            faults["database connections killed"] += 1
        site.start_edge()
    time.sleep(3)
    site.stop_edge()
    site.drain()

    collected = site.collected_rows()
    central_keys = site.central_keys()
    served = site.served_values()
    lost = as_key_set(collected) - central_keys
    extra = central_keys - as_key_set(collected)
    duplicates = site.central_count() - len(central_keys)
    not_served = [row for row in collected if float32(row[3]) not in served[(row[0], row[1])]]
    report(
        f"faults {faults}: collected {len(collected)}, central {site.central_count()}, "
        f"lost {len(lost)}, duplicated {duplicates}, unknown in central {len(extra)}, not served by a meter {len(not_served)}"
    )
    assert len(collected) > 20
    assert not lost and not extra and duplicates == 0 and not not_served


def test_dead_meter_is_reported_and_others_keep_their_rhythm(site_factory):
    site = site_factory("127.0.3.40", "127.0.3.4")
    site.wait_until(lambda: len({r[0] for r in site.collected_rows()}) == 3, 60, "all meters collected")
    reachable = "SELECT reachable FROM meters WHERE external_id = :m"
    site.wait_until(
        lambda: query_rows(site.edge_db, reachable, m="meter-002") == [(True,)], 30, "meter-002 reachable"
    )
    killed_at = utcnow()
    assert site.control("kill", "meter-002")["ok"]
    site.wait_until(
        lambda: query_rows(site.edge_db, reachable, m="meter-002") == [(False,)], 30, "meter-002 unreachable"
    )
    flagged_at = utcnow()
    time.sleep(4)
    assert site.control("revive", "meter-002")["ok"]
    revived_at = utcnow()
    site.wait_until(
        lambda: query_rows(site.edge_db, reachable, m="meter-002") == [(True,)], 30, "meter-002 back"
    )
    site.wait_until(
        lambda: (
            query_rows(site.central_db, "SELECT reachable FROM meters WHERE external_id = 'meter-002'")
            == [(True,)]
        ),
        30,
        "central sees it back",
    )

    def times(meter: str) -> list[datetime]:
        rows = query_rows(
            site.edge_db,
            "SELECT ts FROM recent_readings WHERE meter_external_id = :m AND data_point = 'total_kwh' ORDER BY ts",
            m=meter,
        )
        return [datetime.fromisoformat(str(r[0])).replace(tzinfo=UTC) for r in rows]

    polls_until_flagged = [t for t in times("meter-001") if killed_at < t <= flagged_at]
    live = times("meter-001")
    gaps = [
        (b - a).total_seconds() for a, b in zip(live, live[1:], strict=False) if killed_at < b < revived_at
    ]
    invented = [t for t in times("meter-002") if killed_at + timedelta(seconds=1.5) < t < revived_at]
    report(
        f"dead meter flagged after {(flagged_at - killed_at).total_seconds():.1f}s ({len(polls_until_flagged)} polls of a live meter); "
        f"live meter's largest gap meanwhile {max(gaps, default=0):.2f}s"
    )
    assert len(polls_until_flagged) <= 3, "a dead meter must be reported within two polls"
    assert gaps and max(gaps) < 3.0, "the live meters keep their rhythm"
    assert not invented, "no reading may be invented for a dead meter"
    assert any(t > revived_at for t in times("meter-002")), "collection resumes when the meter is back"
