"""The polling rig both edge benchmarks measure: simulated meters in their own process, a collector over a
SQLite outbox (WAL, synchronous=FULL) and a BACnet application on loopback, torn down afterwards."""

import asyncio
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from db.edge.outbox import Outbox
from db.engine import make_engine
from db.migrate import upgrade
from edge_agent.bacnet.app import make_application
from edge_agent.collector.poller import Collector
from edge_agent.meters import parse_meters
from edge_agent.simulator.fleet import SimulatorFleet


def _simulator(block: str, meters: int, points: int, no_rpm: str) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "meterit.cli",
        "simulate",
        "--meters",
        str(meters),
        "--points",
        str(points),
    ]
    command += ["--base-address", f"{block}.10", "--control-port", "0"]
    if no_rpm:
        command += ["--no-rpm", no_rpm]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@asynccontextmanager
async def polling_rig(
    block: str, device_id: int, meters: int, points: int, no_rpm: str = ""
) -> AsyncIterator[Collector]:
    """A collector whose meters (nearly all) answer, polling `meters` x `points` simulated on `block`.x."""
    simulator = _simulator(block, meters, points, no_rpm)
    workdir = tempfile.mkdtemp(prefix="meterit-bench-edge-")
    url = f"sqlite+aiosqlite:///{workdir}/edge.db"
    try:
        await asyncio.to_thread(upgrade, "edge", url)
        engine = make_engine(url)
        outbox = Outbox(engine)
        await outbox.open()
        app = make_application(
            f"{block}.1/8:47809", device_id, "bench agent", apdu_timeout_ms=2000, apdu_retries=0
        )
        collector = Collector(app, outbox, timeout=2.0)
        collector.set_meters(
            parse_meters(SimulatorFleet(meters, f"{block}.10", points=points).meters_config())
        )
        await _wait_for_meters(collector, meters)
        try:
            yield collector
        finally:
            app.close()
            await engine.dispose()
    finally:
        simulator.terminate()
        simulator.wait(10)


async def _wait_for_meters(collector: Collector, meters: int, timeout: float = 90.0) -> None:
    """Poll until (nearly) every simulated meter answers; the simulator process takes a while to bind them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = await collector.poll_once()
        if result.meters_ok >= meters * 0.95:
            return
        await asyncio.sleep(0.5)
