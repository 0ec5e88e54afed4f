"""Drain half of `meterit bench edge`: backlog upload rate from a large outbox, beside central's raw ingest rate.

Both are measured in the same run against the same central server (a `meterit api` subprocess on a
throwaway PostgreSQL database): raw = pre-built batches posted straight from memory with the same batch
size and pipelining; drain = the agent's Uploader emptying a SQLite outbox (read, upload, delete).
"""

import asyncio
import os
import sys
import tempfile
import time
from datetime import timedelta

from db.clock import utcnow
from db.engine import make_engine
from db.migrate import upgrade
from db.outbox import Outbox, Reading
from edge_agent.central import CentralClient
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


async def _raw_rate(
    url: str, key: str, readings: list[Reading], batch: int, pipeline: int, tag: str
) -> float:
    wire = [reading_to_wire(r) for r in readings]
    batches = [wire[i : i + batch] for i in range(0, len(wire), batch)]
    started = time.perf_counter()
    async with CentralClient(url, key, timeout=120) as central:
        for i in range(0, len(batches), pipeline):
            group = batches[i : i + pipeline]
            await asyncio.gather(*(central.upload(f"{tag}-{i + j}", b) for j, b in enumerate(group)))
    return len(readings) / (time.perf_counter() - started)


async def _fill_outbox(outbox: Outbox, readings: list[Reading]) -> None:
    for i in range(0, len(readings), 20_000):
        await outbox.add(readings[i : i + 20_000], keep_recent=False)


async def measure_drain(readings: int, raw_readings: int, batch: int = 1000, pipeline: int = 3) -> dict:
    """Raw central ingest rate and outbox drain rate, readings/s, in one run."""
    # The test helpers that run a central server and create databases live in the repository, not the package.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from tests.edge.central_support import new_site
    from tests.support.central_server import CentralServer
    from tests.support.pg import create_database, drop_database

    name = f"meterit_bench_edge_{os.getpid()}"
    url = await create_database(name)
    workdir = tempfile.mkdtemp(prefix="meterit-bench-drain-")
    edge_url = f"sqlite+aiosqlite:///{workdir}/edge.db"
    try:
        await asyncio.to_thread(upgrade, "central", url)
        await asyncio.to_thread(upgrade, "edge", edge_url)
        (_, raw_key), (_, edge_key) = await new_site(url), await new_site(url)
        engine = make_engine(edge_url)
        outbox = Outbox(engine, max_readings=max(readings, 1000) * 2)
        fill_started = time.perf_counter()
        await _fill_outbox(outbox, backlog(readings))
        fill_s = time.perf_counter() - fill_started
        server = CentralServer(
            url,
            log_path=f"{workdir}/central.log",
            env={"RATE_LIMIT_PER_MINUTE": "1000000"},
            startup_timeout=120,
        )
        await asyncio.to_thread(server.start)
        try:
            # Central slows as its tables grow: raw ingest is measured before and after the drain, averaged.
            half = max(raw_readings // 2, batch)
            raw_before = await _raw_rate(
                server.url, raw_key, backlog(half, "raw-a"), batch, pipeline, "raw-a"
            )
            uploader = Uploader(
                outbox,
                lambda: CentralClient(server.url, edge_key, timeout=120),
                batch_size=batch,
                pipeline=pipeline,
            )
            started, cpu = time.perf_counter(), time.process_time()
            result = await uploader.sync_once()
            drain_s, cpu = time.perf_counter() - started, time.process_time() - cpu
            raw_after = await _raw_rate(server.url, raw_key, backlog(half, "raw-b"), batch, pipeline, "raw-b")
            raw = (raw_before + raw_after) / 2
            left = await outbox.depth()
        finally:
            await asyncio.to_thread(server.stop)
            await engine.dispose()
    finally:
        await drop_database(name)
    return {
        "readings": readings,
        "fill_s": fill_s,
        "raw_per_s": raw,
        "raw_before_per_s": raw_before,
        "raw_after_per_s": raw_after,
        "edge_cpu_ms_per_1000": cpu * 1000 / max(result.acknowledged, 1) * 1000,
        "drain_per_s": result.acknowledged / drain_s,
        "drain_s": drain_s,
        "outcome": result.outcome,
        "new": result.new,
        "left": left,
    }
