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
from db.edge.store import make_edge_engine
from db.migrate import upgrade
from edge_agent.bacnet.app import make_application
from edge_agent.collector.poller import Collector
from edge_agent.meters import parse_meters
from edge_agent.simulator.fleet import SimulatorFleet

METERS_PER_SIMULATOR = 250  # one simulator process answered 1,000 meters too slowly on a loaded machine


def simulator_count(meters: int, wanted: int = 0) -> int:
    """How many simulator processes serve `meters` (wanted, else one per METERS_PER_SIMULATOR)."""
    return max(1, min(meters, wanted or -(-meters // METERS_PER_SIMULATOR)))


def spawn_simulators(
    base: str, meters: int, points: int, processes: int = 0, no_rpm: str = "", log_dir: str | None = None
) -> list[subprocess.Popen]:
    """`meterit simulate` processes sharing one fleet of `meters` on consecutive loopback addresses from base."""
    count = simulator_count(meters, processes)
    children, first = [], 1
    for k in range(count):
        n = meters // count + (1 if k < meters % count else 0)
        command = [
            sys.executable,
            "-m",
            "meterit.cli",
            "simulate",
            "--meters",
            str(n),
            "--points",
            str(points),
        ]
        command += ["--base-address", base, "--first", str(first), "--control-port", "0"]
        if no_rpm:
            command += ["--no-rpm", no_rpm]
        log = open(f"{log_dir}/simulator-{k + 1}.log", "ab") if log_dir else subprocess.DEVNULL  # noqa: SIM115
        children.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))
        if log_dir:
            log.close()
        first += n
    return children


def stop_all(children: list[subprocess.Popen]) -> None:
    """Terminate the processes (kill those that do not stop within 10 s)."""
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


@asynccontextmanager
async def polling_rig(
    block: str, device_id: int, meters: int, points: int, no_rpm: str = "", simulators: int = 0
) -> AsyncIterator[Collector]:
    """A collector whose meters (nearly all) answer, polling `meters` x `points` simulated from `block`.10
    by `simulators` processes (0: one per METERS_PER_SIMULATOR meters)."""
    children = spawn_simulators(f"{block}.10", meters, points, simulators, no_rpm)
    workdir = tempfile.mkdtemp(prefix="meterit-bench-edge-")
    url = f"sqlite+aiosqlite:///{workdir}/edge.db"
    try:
        await asyncio.to_thread(upgrade, "edge", url)
        engine = make_edge_engine(url)  # as the agent builds it
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
        stop_all(children)


async def _wait_for_meters(collector: Collector, meters: int, timeout: float = 90.0) -> None:
    """Poll until (nearly) every simulated meter answers; the simulator process takes a while to bind them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = await collector.poll_once()
        if result.meters_ok >= meters * 0.95:
            return
        await asyncio.sleep(0.5)
