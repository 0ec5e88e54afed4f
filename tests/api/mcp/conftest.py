"""Fixtures of the central MCP tests: a populated site on the session's PostgreSQL, users and their tokens."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import pytest

from api.auth import issue_token
from api.settings import CentralSettings
from db.central.grants import set_grant
from db.central.ingest.batch import insert_rows
from db.central.models import Alert, DataPoint, Meter
from db.central.rollups.queue import flush_rollups, record_dirty
from db.central.sites import create_site
from db.central.users import create_user
from db.clock import utcnow
from db.engine import make_engine, make_sessionmaker, session_scope
from tests.support.pg import migrated_central_database

DAY = datetime.combine(utcnow().date() - timedelta(days=10), time(), UTC)  # a whole past day, on any date
SECRET = "mcp-tests-secret-0123456789abcdef-0123456789"
ADMIN_KEY = "admin-key-for-mcp-tests-0123456789abcdef"


@dataclass
class Fleet:
    """What the tests know about the seeded data."""

    url: str
    settings: CentralSettings
    sessions: object
    site_id: int
    site_name: str
    meter_id: int
    alert_id: int
    admin_token: str
    viewer_token: str


@pytest.fixture(scope="session")
def mcp_pg_url(pg_server) -> str:
    """A central database of the MCP tests' own: no other test's server (alert engine, offline marking) changes
    the seeded site's status or resolves its alert meanwhile (a dated run saw both on the shared database)."""
    yield from migrated_central_database("meterit_mcp")


@pytest.fixture(scope="session")
async def fleet(mcp_pg_url) -> Fleet:
    """One site with a meter (kWh register and kW point, hourly readings over a day), an alert and two users."""
    settings = CentralSettings(_env_file=None, database_url=mcp_pg_url, jwt_secret=SECRET)
    engine = make_engine(mcp_pg_url, pool_size=4)
    sessions = make_sessionmaker(engine)
    tag = uuid.uuid4().hex[:6]
    async with session_scope(sessions) as session:
        site = (await create_site(session, f"MCP Plant {tag}")).site
        site.status, site.health, site.last_heartbeat_at = "online", {"queue_depth": 3}, DAY
        meter = Meter(site_id=site.id, external_id="meter-001", name="Main", reachable=True)
        session.add(meter)
        await session.flush()
        energy = DataPoint(meter_id=meter.id, name="total_kwh", unit="kilowatt-hours", cumulative=True)
        power = DataPoint(meter_id=meter.id, name="power_kw", unit="kilowatts")
        session.add_all([energy, power])
        await session.flush()
        rows = [(energy.id, DAY + timedelta(hours=h), 100.0 + 2 * h, 0) for h in range(25)]
        rows += [(power.id, DAY + timedelta(hours=h), 5.0 + (h == 13) * 10, 0) for h in range(25)]
        await insert_rows(session, rows)
        span = (DAY, DAY + timedelta(days=1))
        await record_dirty(
            session, site.id, {energy.id: span, power.id: span}
        )  # folded below, as uploads are
        alert = Alert(site_id=site.id, kind="heartbeat_missing", severity="critical", message=f"{tag} silent")
        session.add(alert)
        admin = await create_user(session, f"mcp-admin-{tag}@example.test", "password-1234", "admin")
        viewer = await create_user(session, f"mcp-viewer-{tag}@example.test", "password-1234", "viewer")
        await session.flush()
        await set_grant(session, viewer.id, site.id, "viewer")
        ids = (site.id, site.name, meter.id, alert.id)
    await flush_rollups(sessions)
    yield Fleet(
        mcp_pg_url,
        settings,
        sessions,
        *ids,
        issue_token(settings, admin)[0],
        issue_token(settings, viewer)[0],
    )
    await engine.dispose()
