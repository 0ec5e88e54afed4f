"""Collection half of `meterit bench edge`: values/s and agent CPU per 1,000 values against simulated meters.

The simulator runs in its own process (`meterit simulate`) so that the CPU measured here is the agent's
alone: BACnet requests, decoding, and committing each poll to a SQLite outbox (WAL, synchronous=FULL).
"""

import asyncio
import subprocess
import sys
import tempfile
import time

from db.engine import make_engine
from db.migrate import upgrade
from db.outbox import Outbox
from edge_agent.bacnet.app import make_application
from edge_agent.collector.poller import Collector
from edge_agent.meters import parse_meters
from edge_agent.simulator.fleet import SimulatorFleet

BLOCK = "127.0.60"


def _start_simulator(meters: int, points: int) -> subprocess.Popen:
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
    command += ["--base-address", f"{BLOCK}.10", "--control-port", "0"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def measure_collection(meters: int, points: int, polls: int) -> dict:
    """Poll `meters` × `points` back to back `polls` times; return values/s and CPU ms per 1,000 values."""
    simulator = _start_simulator(meters, points)
    workdir = tempfile.mkdtemp(prefix="meterit-bench-edge-")
    url = f"sqlite+aiosqlite:///{workdir}/edge.db"
    try:
        await asyncio.to_thread(upgrade, "edge", url)
        engine = make_engine(url)
        outbox = Outbox(engine)
        await outbox.open()
        app = make_application(
            f"{BLOCK}.1/8:47809", 3_999_060, "bench agent", apdu_timeout_ms=2000, apdu_retries=0
        )
        collector = Collector(app, outbox, timeout=2.0)
        config = SimulatorFleet(meters, f"{BLOCK}.10", points=points).meters_config()
        collector.set_meters(parse_meters(config))
        await _wait_for_meters(collector, meters)
        values = 0
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(polls):
            values += (await collector.poll_once()).values
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        app.close()
        await engine.dispose()
    finally:
        simulator.terminate()
        simulator.wait(10)
    return {
        "values": values,
        "expected": meters * points * polls,
        "values_per_s": values / wall,
        "cpu_ms_per_1000": cpu * 1000 / max(values, 1) * 1000,
        "wall_s": wall,
    }


async def _wait_for_meters(collector: Collector, meters: int, timeout: float = 90.0) -> None:
    """Poll until (nearly) every simulated meter answers; the simulator process takes a while to bind them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = await collector.poll_once()
        if result.meters_ok >= meters * 0.95:
            return
        await asyncio.sleep(0.5)


def site_projection(
    cpu_ms_per_1000: float, meters: int = 100, points: int = 10, interval: float = 10.0
) -> float:
    """Share of one core the agent needs for `meters` × `points` every `interval` seconds."""
    values_per_s = meters * points / interval
    return values_per_s * cpu_ms_per_1000 / 1000 / 1000
