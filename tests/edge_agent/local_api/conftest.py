"""Fixtures of the local API tests: a simulator fleet on 127.0.0.221-223 and an agent polling two of its meters."""

import pytest

from edge_agent.simulator import SimulatorFleet
from tests.edge_agent.local_api.site import dead_central_url, edge_settings, local_site, write_meters

CLIENT = "127.0.0.220"


@pytest.fixture(scope="module")
async def fleet():
    """Three simulated meters (two points each) at 127.0.0.221-223:47808."""
    async with SimulatorFleet(3, "127.0.0.221", points=2, tick_seconds=0.5) as sim:
        yield sim


@pytest.fixture(scope="module")
async def site(fleet, tmp_path_factory):
    """An agent polling meter-001 and meter-002 every second, central down, and its local API."""
    tmp = tmp_path_factory.mktemp("edge_api")
    write_meters(fleet, tmp / "meters.json", only=2)
    settings = edge_settings(tmp, CLIENT, dead_central_url(), "site-key-of-a-dead-central")
    async with local_site(settings) as running:
        yield running
