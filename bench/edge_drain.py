"""Drain half of `meterit bench edge`: backlog upload rate from a large outbox, beside central's raw ingest rate.

Both are measured in the same run against the same central server (a `meterit api` subprocess on a
throwaway PostgreSQL database): raw = pre-built batches posted straight from memory through the same client
(`CentralClient`) with the same batch size and window of uploads in flight; drain = the agent's Uploader
emptying a SQLite outbox (read, upload, delete after the ack). Trials alternate raw and drain (central
slows as its tables grow, and the machine is shared), and each prints the CPU the edge process and the
API used per 1,000 readings, which the load of other processes disturbs less than the rates.
"""

import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta

from bench.cpu import own_cpu_seconds, tree_cpu_seconds
from db.clock import utcnow
from db.edge.outbox import Outbox, Reading
from db.edge.store import make_edge_engine
from db.migrate import upgrade
from db.wire import DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE
from edge_agent.central import CentralClient
from edge_agent.memory import freeze_startup_objects
from edge_agent.uploader import Uploader, reading_to_wire

METERS, POINTS = 100, 10


def backlog(n: int, meter_prefix: str = "meter") -> list[Reading]:
    """n readings of 100 meters × 10 points, one instant per 1,000 readings, ending a minute ago."""
    start = utcnow().replace(microsecond=0) - timedelta(seconds=n // (METERS * POINTS) + 60)
    out = []
    for i in range(n):
        instant, rest = divmod(i, METERS * POINTS)
        meter, point = divmod(rest, POINTS)
        out.append(
            Reading(
                f"{meter_prefix}-{meter:03d}",
                f"p{point}",
                start + timedelta(seconds=instant),
                float(i),
                "kWh",
                0,
            )
        )
    return out


@dataclass
class Phase:
    """One timed phase: readings, wall seconds, CPU seconds of this process and of the API's processes."""

    readings: int
    seconds: float
    edge_cpu: float
    api_cpu: float

    @property
    def rate(self) -> float:
        """Readings per second."""
        return self.readings / self.seconds

    def cpu_text(self) -> str:
        """CPU per 1,000 readings."""
        per = 1000 / max(self.readings, 1) * 1000
        return f"edge {self.edge_cpu * per:.1f} ms, API {self.api_cpu * per:.1f} ms per 1,000"


async def _timed(server_pid: int, readings: int, work) -> Phase:
    # The agent freezes its start-up objects; here the bench's own data (the raw phase's readings, ~1M objects)
    # would otherwise be walked by every full collection of the drain, a cost the agent does not have.
    freeze_startup_objects()
    cpu, api = own_cpu_seconds(), tree_cpu_seconds(server_pid)
    started = time.perf_counter()
    done = await work()
    seconds = time.perf_counter() - started
    return Phase(done or readings, seconds, own_cpu_seconds() - cpu, tree_cpu_seconds(server_pid) - api)


async def _raw(url: str, key: str, readings: list[Reading], batch: int, pipeline: int, tag: str) -> None:
    """Post pre-built batches, `pipeline` in flight at once (a sliding window, as the uploader keeps)."""
    wire = [reading_to_wire(r) for r in readings]
    batches = [wire[i : i + batch] for i in range(0, len(wire), batch)]
    slots = asyncio.Semaphore(pipeline)
    async with CentralClient(url, key, timeout=120) as central:

        async def one(n: int, items: list[dict]) -> None:
            async with slots:
                answer = await central.upload(f"{tag}-{n}", items)
            if answer.get("__typename") != "UploadResult" or answer["new"] != len(items):
                raise RuntimeError(f"central did not store a raw batch: {answer}")

        await asyncio.gather(*(one(n, items) for n, items in enumerate(batches)))


async def _fill_outbox(outbox: Outbox, readings: list[Reading]) -> None:
    for i in range(0, len(readings), 20_000):
        await outbox.add(readings[i : i + 20_000], keep_recent=False)


async def measure_drain(
    readings: int, raw_readings: int, batch: int = DEFAULT_BATCH_SIZE, pipeline: int = 3, trials: int = 3
) -> dict:
    """Raw central ingest and outbox drain, `trials` of each alternating, in one run."""
    # The test helpers that run a central server and create databases live in the repository, not the package.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from tests.edge_agent.central_support import new_site
    from tests.support.central_server import CentralServer
    from tests.support.pg import create_database, drop_database

    name = f"meterit_bench_edge_{os.getpid()}"
    url = await create_database(name)
    workdir = tempfile.mkdtemp(prefix="meterit-bench-drain-")
    edge_url = f"sqlite+aiosqlite:///{workdir}/edge.db"
    raws: list[Phase] = []
    drains: list[Phase] = []
    outcomes, left = [], 0
    try:
        await asyncio.to_thread(upgrade, "central", url)
        await asyncio.to_thread(upgrade, "edge", edge_url)
        (_, raw_key), (_, edge_key) = await new_site(url), await new_site(url)
        engine = make_edge_engine(edge_url)  # as the agent builds it
        outbox = Outbox(engine, max_readings=max(readings, 1000) * 2)
        server = CentralServer(
            url,
            log_path=f"{workdir}/central.log",
            # central refuses batches over its BATCH_SIZE: the bench lets it take its maximum, so --batch-sizes can go there
            env={"RATE_LIMIT_PER_MINUTE": "1000000", "BATCH_SIZE": str(MAX_BATCH_SIZE)},
            startup_timeout=120,
        )
        await asyncio.to_thread(server.start)
        pid = server.process.pid
        uploader = Uploader(
            outbox,
            lambda: CentralClient(server.url, edge_key, timeout=120),
            batch_size=batch,
            pipeline=pipeline,
        )
        try:
            for trial in range(trials):
                await _fill_outbox(outbox, backlog(readings, f"e{trial}"))
                raw_rows = backlog(raw_readings, f"r{trial}")

                async def raw(rows=raw_rows, tag=f"raw{trial}-{batch}"):
                    await _raw(server.url, raw_key, rows, batch, pipeline, tag)

                async def drain():
                    result = await uploader.sync_once()
                    outcomes.append(result.outcome)
                    return result.acknowledged

                order = (raw, drain) if trial % 2 == 0 else (drain, raw)
                for work in order:
                    phase = await _timed(pid, raw_readings if work is raw else readings, work)
                    (raws if work is raw else drains).append(phase)
            left = await outbox.depth()
        finally:
            await asyncio.to_thread(server.stop)
            await engine.dispose()
    finally:
        await drop_database(name)
    raw_rate = statistics.median(p.rate for p in raws)
    drain_rate = statistics.median(p.rate for p in drains)
    return {
        "batch": batch,
        "pipeline": pipeline,
        "readings": readings,
        "raw": raws,
        "drain": drains,
        "raw_per_s": raw_rate,
        "drain_per_s": drain_rate,
        "ratio": drain_rate / raw_rate,
        "outcome": ",".join(sorted(set(outcomes))),
        "left": left,
    }
