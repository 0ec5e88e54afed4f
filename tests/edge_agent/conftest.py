"""Fixtures of the edge tests: simulated meters and a BACnet client on loopback addresses private to each module.

Each test module picks its own 127.0.N.0/24 block (meters at .10 upwards, the client at .1) so that modules
running in parallel never share an address:port (SO_REUSEPORT would split their packets).
"""

import asyncio

import pytest

from db.edge.outbox import Outbox
from db.edge.store import make_edge_engine
from db.migrate import upgrade
from edge_agent.bacnet.app import make_application
from edge_agent.collector.poller import Collector
from edge_agent.meters import parse_meters
from edge_agent.simulator import SimulatorFleet

CLIENT_PORT = 47809


@pytest.fixture(scope="session")
def edge_central(central_pg_url, tmp_path_factory):
    """One real central server (`meterit api` subprocess on the session's PostgreSQL) for the edge tests."""
    from tests.support.central_server import CentralServer

    log = tmp_path_factory.mktemp("edge-central") / "central.log"
    server = CentralServer(central_pg_url, log_path=log, startup_timeout=120)
    server.start()
    yield server
    server.stop()


async def make_edge_db(url: str):
    """A migrated edge database and its engine."""
    await asyncio.to_thread(upgrade, "edge", url)
    return make_edge_engine(url)


@pytest.fixture
async def edge_engine(sqlite_url):
    """A migrated edge database on a fresh SQLite file."""
    engine = await make_edge_db(sqlite_url)
    yield engine
    await engine.dispose()


async def start_fleet(
    block: int,
    meters: int = 3,
    points: int = 2,
    no_rpm: set[int] | dict[int, str] | None = None,
    record=False,
    slow: dict[int, float] | None = None,
    base: int = 10,
):
    """A simulator fleet on 127.0.<block>.<base> upwards."""
    fleet = SimulatorFleet(
        meters, f"127.0.{block}.{base}", points=points, no_rpm=no_rpm, record=record, slow=slow
    )
    await fleet.start()
    return fleet


def client_app(block: int, device_id: int = 3_999_100):
    """The collector's BACnet application at 127.0.<block>.1:47809 (short APDU timeout, no retries)."""
    return make_application(
        f"127.0.{block}.1/8:{CLIENT_PORT}",
        device_id + block,
        "test client",
        apdu_timeout_ms=1500,
        apdu_retries=0,
    )


def make_collector(
    app, outbox: Outbox, fleet: SimulatorFleet | None, timeout: float = 1.5, **extra
) -> Collector:
    """A collector polling every meter of the fleet."""
    collector = Collector(app, outbox, timeout=timeout, per_device_concurrency=4, **extra)
    if fleet is not None:
        collector.set_meters(parse_meters(fleet.meters_config()))
    return collector
