"""Fixtures of the alert tests: a private migrated PostgreSQL database, an SMTP sink, a controllable clock."""

import pytest
from sqlalchemy import delete

from api.alerts.notifier import EmailNotifier
from api.alerts.settings import AlertSettings
from api.settings import CentralSettings
from db.central.models import Alert, AlertRule, Meter, Site
from db.engine import make_engine, make_sessionmaker, session_scope
from tests.support.clock import HandClock
from tests.support.pg import migrated_central_database
from tests.support.smtp import SmtpSink


@pytest.fixture(scope="session")
def alerts_pg_url(pg_server) -> str:
    """A migrated central database of the alert tests alone (the engine watches every site in it)."""
    yield from migrated_central_database("meterit_alerts")


@pytest.fixture(scope="session")
async def alert_sessions(alerts_pg_url):
    """Session factory on the alert tests' database."""
    engine = make_engine(alerts_pg_url, pool_size=4)
    yield make_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
async def sessions(alert_sessions):
    """The factory, with sites, rules and alerts of earlier tests removed."""
    async with session_scope(alert_sessions) as session:
        for table in (Alert, AlertRule, Meter, Site):
            await session.execute(delete(table))
    return alert_sessions


@pytest.fixture
def clock(hand_clock) -> HandClock:
    """The hand-moved process clock, standing at each chosen date in turn."""
    return hand_clock


@pytest.fixture
def sink():
    """A running local SMTP server."""
    server = SmtpSink().start()
    yield server
    server.stop()


def smtp_settings(sink: SmtpSink) -> CentralSettings:
    """Central settings pointing SMTP_* at the sink."""
    return CentralSettings(
        _env_file=None, smtp_host=sink.host, smtp_port=sink.port, smtp_from="alerts@meterit.test"
    )


def alert_settings(**overrides) -> AlertSettings:
    """Fast retries and a default recipient, for tests."""
    values = {"recipients": "ops@example.test", "retry_base_seconds": 0.05, "retry_max_seconds": 0.2}
    return AlertSettings(_env_file=None, **(values | overrides))


@pytest.fixture
async def notifier(sink):
    """A started notifier sending to the sink (stopped after the test)."""
    sender = EmailNotifier(smtp_settings(sink), alert_settings())
    sender.start()
    yield sender
    await sender.stop(grace=1.0)
