"""Site liveness from any contact: upload (fast and general path), heartbeat, config fetch; outage detection."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from api.background.monitor import check_interval
from api.settings import CentralSettings
from db.central.contact import record_contact
from db.central.models import Site
from db.central.site_status import mark_offline
from db.clock import FixedClock, use_clock
from db.engine import make_engine, make_sessionmaker, session_scope
from edge_agent.settings import EdgeSettings
from tests.api.conftest import execute, http_client, in_session, new_site
from tests.api.test_edge import HEARTBEAT, UPLOAD, readings
from tests.support.pg import migrated_central_database

GENERAL_UPLOAD = "mutation Up($batch: ReadingBatchInput!) { uploadReadings(batch: $batch) { __typename } }"


async def site_row(url: str, site_id: int) -> Site:
    """The site's row as stored."""
    return await in_session(url, lambda s: s.scalar(select(Site).where(Site.id == site_id)))


def one_reading() -> dict:
    """A batch variable of one reading."""
    return {"batchId": "b-1", "readings": readings("m-1", 1, datetime.now(UTC) - timedelta(minutes=3))}


CONTACTS = {
    "upload (fast path)": (UPLOAD, {"batch": None}),
    "upload (general path)": (GENERAL_UPLOAD, {"batch": None}),
    "heartbeat": (HEARTBEAT, {"status": {"agentVersion": "1", "queueDepth": 0, "meters": []}}),
    "siteConfig": ("{ siteConfig { siteId } }", {}),
    "authenticateSite": ("mutation { authenticateSite { siteId } }", {}),
}


@pytest.fixture(scope="module")
def private_pg_url(pg_server) -> str:
    """A database of its own: the monitor's passes below flip every silent site in it."""
    yield from migrated_central_database("meterit_liveness")


@pytest.mark.parametrize("kind", list(CONTACTS))
async def test_every_site_request_is_contact_and_brings_the_site_online(central, central_pg_url, kind):
    site_id, key = await new_site(central_pg_url)
    before = await site_row(central_pg_url, site_id)
    assert (before.status, before.last_contact_at) == ("unknown", None)
    query, variables = CONTACTS[kind]
    variables = {k: one_reading() if k == "batch" else v for k, v in variables.items()}
    await execute(http_client(central.url, key=key), query, **variables)
    after = await site_row(central_pg_url, site_id)
    assert after.status == "online"
    assert after.last_contact_at is not None


async def test_defaults_see_a_two_minute_outage_within_a_minute(private_pg_url):
    """Edge heartbeats every HEARTBEAT_INTERVAL_SECONDS until central is cut off at t0 for 2 minutes."""
    offline_after = timedelta(minutes=CentralSettings(_env_file=None).offline_after_minutes)
    heartbeat = EdgeSettings(_env_file=None).heartbeat_interval_seconds
    site_id, _ = await new_site(private_pg_url)
    engine = make_engine(private_pg_url, pool_size=1)
    sessions = make_sessionmaker(engine)
    t0 = datetime.now(UTC)
    moment = FixedClock(t0 - timedelta(minutes=5))
    seen_offline_at = None
    try:
        with use_clock(moment):
            while moment.now() <= t0:  # normal operation: no flapping between heartbeats
                async with session_scope(sessions) as session:
                    await record_contact(session, site_id, 10_000)
                    assert site_id not in [s.id for s in await mark_offline(session, offline_after)]
                moment.advance(timedelta(seconds=heartbeat))
            moment.moment = t0
            while moment.now() < t0 + timedelta(minutes=2):  # the monitor's passes during the outage
                moment.advance(timedelta(seconds=check_interval(offline_after.total_seconds() / 60)))
                async with session_scope(sessions) as session:
                    if site_id in [s.id for s in await mark_offline(session, offline_after)]:
                        seen_offline_at = seen_offline_at or moment.now()
            async with session_scope(sessions) as session:  # central reachable again: the first request
                back = await record_contact(session, site_id, 10_000)
    finally:
        await engine.dispose()
    assert seen_offline_at is not None and seen_offline_at - t0 <= timedelta(minutes=1)
    assert back is not None and back.status == "online"
