"""`meterit bench ingest`: readings/s through `uploadReadings` over real HTTP vs raw asyncpg COPY, same table.

Creates throwaway PostgreSQL databases, starts the central API as a subprocess, uploads N readings in
the edge's batches (5,000 readings) from several concurrent keep-alive clients (bench/http_load.py: a lean load generator,
so that the machine's two cores go to the API and PostgreSQL), once with upkeep (the API's fold worker folds
the queued ranges into the energy summary, the one stored aggregate since the rollups stopped being written,
and what is left when the uploads end is folded at once: the time until the queue is empty counts) and once
without, then COPYs the same readings into the same readings table over the
same number of connections, batch for batch: each batch in (point, time) order as the API stores an upload
(the baseline), and in the order the edge sends it. Prints the rates, the HTTP/COPY ratio and the share of
ingest throughput that upkeep costs; the ratio's baseline is the faster of the two COPYs. An
untimed upload comes first (--warmup), and the two modes take turns at going first: a run's first upload was
its slowest, whatever its mode.
"""

import asyncio
import collections
import itertools
import json
import logging
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import timedelta

from graphql import parse, print_ast

from bench.cpu import CpuMeter, CpuSplit, parent_pid
from bench.http_load import KeepAliveClient
from bench.pairs import cpu_pair_costs, describe, pair_costs
from db.central.native import native_loops
from db.clock import utcnow
from db.wire import DEFAULT_BATCH_SIZE, UPLOAD_READINGS_DOCUMENT

UPLOAD = print_ast(parse(UPLOAD_READINGS_DOCUMENT))  # the edge agent's request, as gql sends it
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
CONNECT_STAGGER_SECONDS = 0.05


def register(benches) -> None:
    """Add `meterit bench ingest`."""
    parser = benches.add_parser("ingest", help="upload readings over HTTP into PostgreSQL vs raw COPY")
    parser.add_argument(
        "--readings", type=int, default=1_000_000, help="readings to upload (default 1,000,000)"
    )
    parser.add_argument(
        "--batch",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        help=f"readings per upload and per COPY (default {DEFAULT_BATCH_SIZE:,}: the edge's batch)",
    )
    parser.add_argument("--clients", type=int, default=6, help="concurrent HTTP clients (default 6)")
    parser.add_argument(
        "--sites", type=int, default=12, help="sites, each uploading its own batches in order (default 12)"
    )
    parser.add_argument("--workers", type=int, default=2, help="server worker processes (default 2)")
    parser.add_argument("--points", type=int, default=1000, help="distinct data points (default 1000)")
    parser.add_argument(
        "--admin-url", default=os.environ.get("METERIT_BENCH_PG", ADMIN_URL), help="PostgreSQL admin URL"
    )
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument(
        "--trials",
        type=int,
        default=3,
        help="rounds of every measurement, alternating; medians are compared (default 3)",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=1,
        help="untimed uploads before the trials (default 1): the machine's first trial ran ~6%% slower",
    )
    parser.add_argument(
        "--rollups",
        choices=("both", "on", "off"),
        default="both",
        help="upload with upkeep (the summary fold), without, or both to print its cost (default both)",
    )
    parser.set_defaults(handler=lambda args: asyncio.run(run(args)))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def site_readings(total: int, points: int, sites: int) -> list[list[tuple[int, int, float]]]:
    """Each site's readings in upload order, as (point index, minute, value): each site's edge sends
    consecutive minutes of its own points (points and readings shared out evenly), as an edge drains its outbox."""
    per_site = []
    for site, own in enumerate(site_points(points, sites)):
        count = (site + 1) * total // sites - site * total // sites
        readings = []
        for i in range(count):
            minute, point = divmod(i, len(own))
            readings.append((own[point], minute, float(i)))
        per_site.append(readings)
    return per_site


def point_keys(point: int) -> dict[str, str]:
    """The meter, point name and unit the uploads give point index `point` (two points a meter)."""
    energy = point % 2 == 0
    return {
        "meter_external_id": f"meter-{point // 2:04d}",
        "data_point": "total_kwh" if energy else "power_kw",
        "unit": "kWh" if energy else "kW",
    }


def site_points(points: int, sites: int) -> list[range]:
    """Each site's point indexes (shared out evenly)."""
    return [range(site * points // sites, (site + 1) * points // sites) for site in range(sites)]


def make_bodies(total: int, batch: int, points: int, sites: int) -> list[list[bytes]]:
    """Pre-encoded request bodies per site, in upload order (site_readings in batches)."""
    start = utcnow().replace(second=0, microsecond=0) - timedelta(days=20)
    per_site = []
    for readings in site_readings(total, points, sites):
        bodies = []
        for first in range(0, len(readings), batch):
            items = []
            for point, minute, value in readings[first : first + batch]:
                keys = point_keys(point)
                items.append({
                    "meter_external_id": keys["meter_external_id"], "data_point": keys["data_point"],
                    "timestamp": (start + timedelta(minutes=minute)).isoformat(), "value": value,
                    "unit": keys["unit"], "quality": 0,
                })  # fmt: skip
            variables = {"batch": {"batchId": uuid.uuid4().hex, "readings": items}}
            bodies.append(json.dumps({"query": UPLOAD, "variables": variables}).encode())
        per_site.append(bodies)
    return per_site


def copy_batches(args, ordered: bool) -> list[list[tuple]]:
    """The uploads' readings as COPY rows, batch for batch, the sites' batches taken in turn as the clients
    upload them; ordered: each batch in (point, time) order, as the API stores an upload, else in the order
    the edge sends it. Point ids of their own (1e9 + …, 2e9 + … ordered): both go into the uploads' table."""
    start = utcnow().replace(second=0, microsecond=0) - timedelta(days=20)
    base = 2 * 10**9 if ordered else 10**9
    per_site = []
    for readings in site_readings(args.readings, args.points, args.sites):
        batches = []
        for first in range(0, len(readings), args.batch):
            rows = [
                (base + point, start + timedelta(minutes=minute), value, 0)
                for point, minute, value in readings[first : first + args.batch]
            ]
            batches.append(sorted(rows, key=lambda row: row[:2]) if ordered else rows)
        per_site.append(batches)
    return [batch for turn in itertools.zip_longest(*per_site) for batch in turn if batch is not None]


async def _upload_all(
    port: int, keys: list[str], bodies: list[list[bytes]], clients: int
) -> tuple[float, int]:
    """Every site's bodies in its own order, by `clients` keep-alive clients; (seconds, new readings).

    A client takes the next batch of a site that no other client is uploading, as each site's edge sends its
    outbox one batch at a time; with more sites than clients no client waits for a straggler at the end.
    """
    stored = 0
    ready = collections.deque((site, iter(site_bodies)) for site, site_bodies in enumerate(bodies))

    async def client_loop(position: int) -> None:
        nonlocal stored
        # Edges do not connect in the same instant: a worker busy with an upload leaves the next connection
        # to an idle one. Opened together, every connection lands on whichever worker wakes first.
        await asyncio.sleep(position * CONNECT_STAGGER_SECONDS)
        async with KeepAliveClient("127.0.0.1", port, {"Content-Type": "application/json"}) as client:
            while ready:
                site, site_bodies = ready.popleft()
                body = next(site_bodies, None)
                if body is None:
                    continue
                answer = await client.post("/graphql", body, {"X-API-Key": keys[site]})
                result = json.loads(answer)["data"]["uploadReadings"]
                if result["__typename"] != "UploadResult":
                    raise RuntimeError(f"upload refused: {result}")
                stored += result["new"]
                ready.append((site, site_bodies))

    started = time.perf_counter()
    await asyncio.gather(*(client_loop(position) for position in range(clients)))
    return time.perf_counter() - started, stored


async def _copy_all(dsn: str, batches: list[list[tuple]], clients: int) -> tuple[float, CpuSplit]:
    import asyncpg

    batches = batches[::-1]  # popped from the end: in upload order
    conns = [await asyncpg.connect(dsn) for _ in range(clients)]

    async def copy_loop(conn) -> None:
        while batches:
            await conn.copy_records_to_table(
                "readings", records=batches.pop(), columns=["point_id", "ts", "value", "quality"]
            )

    meter = CpuMeter(
        None, parent_pid(await conns[0].fetchval("SELECT pg_backend_pid()")), dsn.rsplit("/", 1)[1]
    )
    try:
        meter.start()
        started = time.perf_counter()
        await asyncio.gather(*(copy_loop(c) for c in conns))
        return time.perf_counter() - started, meter.stop()  # before the backends exit with their counts
    finally:
        for conn in conns:
            await conn.close()


async def _prepare(admin_url: str, name: str, sites: int, points: int) -> tuple[str, list[str]]:
    """A fresh database with the sites and their meters and points, registered as a site's first upload
    registers them (db/central/points.py resolve_points): the timed uploads, like the COPY they are compared
    with, store readings of points that exist, the steady state of a central. A first upload's registration
    (~0.3 ms a point, once in a point's life) was in the timed uploads until the eighteenth pass."""
    import asyncpg

    from db.central.points import resolve_points
    from db.central.sites import create_site
    from db.engine import make_engine, make_sessionmaker, session_scope
    from db.migrate import upgrade

    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    dsn = admin_url.rsplit("/", 1)[0] + "/" + name
    await asyncio.to_thread(upgrade, "central", dsn)
    engine = make_engine(dsn, pool_size=1)
    async with session_scope(make_sessionmaker(engine)) as session:
        created = []
        for n in range(sites):
            new = await create_site(session, f"bench-site-{n}")
            created.append((new.site.id, new.api_key))
    for (site_id, _), own in zip(created, site_points(points, sites), strict=True):
        units = {
            (keys["meter_external_id"], keys["data_point"]): keys["unit"] for keys in map(point_keys, own)
        }
        async with session_scope(make_sessionmaker(engine)) as session:
            await resolve_points(session, site_id, units)
    keys = [key for _, key in created]
    await engine.dispose()
    return dsn, keys


def app_without_rollups():
    """uvicorn factory of the API with no db.central.ingest.batch post-insert hooks: uploads queue no rollup work."""
    import db.central.ingest.batch
    from api.app import create_app_from_env

    db.central.ingest.batch.POST_INSERT_HOOKS.clear()
    return create_app_from_env()


def _start_server(dsn: str, port: int, workers: int, batch: int, rollups: bool) -> subprocess.Popen:
    import httpx

    env = {**os.environ, "DATABASE_URL": dsn, "RATE_LIMIT_PER_MINUTE": str(10**9), "BATCH_SIZE": str(batch)}
    env["LOG_LEVEL"] = "WARNING"
    factory = "api.app:create_app_from_env" if rollups else "bench.ingest:app_without_rollups"
    command = [sys.executable, "-m", "uvicorn", factory, "--factory", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("central server did not start")


async def _open_drain(dsn: str):
    """The drain's sessionmaker and engine, with its ROLLUP_PARTS connections opened, before any timing: an API
    worker's pool is open before uploads arrive. Opened inside the timed drain, four new connections (asyncpg's
    connect, its SSL attempt and .pgpass lookup, SQLAlchemy's first-connect checks) were ~50 ms of a 0.25 s drain."""
    from sqlalchemy import text

    from api.app import tune_garbage_collector
    from db.central.rollups.queue import ROLLUP_PARTS
    from db.engine import make_engine, make_sessionmaker, session_scope

    tune_garbage_collector()  # the API's worker folds with the API's collector settings; so does this fold
    engine = make_engine(dsn, pool_size=ROLLUP_PARTS)
    sessions = make_sessionmaker(engine)

    async def touch() -> None:
        async with session_scope(sessions) as session:
            await session.execute(text("SELECT 1"))
            await asyncio.sleep(0.05)  # held until every one is open: each its own connection

    await asyncio.gather(*(touch() for _ in range(ROLLUP_PARTS)))
    return sessions, engine


async def _drain_rollups(sessions, meter: CpuMeter) -> tuple[float, CpuSplit]:
    """Seconds to fold what the API's rollup workers have not folded yet, folding it here and now; the phase's CPU.

    The workers pause between rounds (api/background/rollup_worker.py): waiting for their next round would add
    idle time to a throughput figure. This folds as a worker does, every part at once on its own connection
    (db/central/rollups/queue.py process_once; the connections opened before the uploads, _open_drain), and
    leaves a part that an API worker holds to that worker until it lets go: flush_rollups, which waits for a
    held part's rows instead, split one part's uploads between two folds of the same points (twice the bounds,
    tail quarters and days to read), a cost the workers alone never have. Its CPU counts as the load
    generator's (its backends' as PostgreSQL's: the meter stops before those connections close).
    """
    from sqlalchemy import exists, select

    from db.central.rollups.models import RollupDirty
    from db.central.rollups.queue import ALL_PARTS, process_once
    from db.engine import session_scope

    async def fold(part: int) -> None:
        while True:
            async with session_scope(sessions) as session:
                if await process_once(session, (part,)):
                    continue
                if not await session.scalar(select(exists().where(RollupDirty.part == part))):
                    return
            await asyncio.sleep(0.01)  # an API worker is folding this part

    started = time.perf_counter()
    await asyncio.gather(*(fold(part) for part in ALL_PARTS))
    return time.perf_counter() - started, meter.stop()


async def _postmaster_pid(dsn: str) -> int | None:
    """The local PostgreSQL server's main process (None when it is not on this machine)."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        return parent_pid(await conn.fetchval("SELECT pg_backend_pid()"))  # while the backend lives
    finally:
        await conn.close()


async def _drop(admin_url: str, name: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def _measure_upload(args, bodies: list[bytes], rollups: bool, copy: int) -> dict:
    """Upload every body into a fresh database; with copy (the trial's number, 0 for none), then COPY the same
    readings into its table twice: each batch in (point, time) order, as the API stores it, and as sent."""
    name = f"meterit_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    dsn, keys = await _prepare(args.admin_url, name, args.sites, args.points)
    port = _free_port()
    server = _start_server(dsn, port, args.workers, args.batch, rollups)
    figures = {}
    drain = None
    try:
        if rollups:
            drain = await _open_drain(dsn)
        meter = CpuMeter(server.pid, await _postmaster_pid(dsn), name)  # this database's backends only
        meter.start()
        figures["upload"], stored = await _upload_all(port, keys, bodies, args.clients)
        if stored != args.readings:
            raise RuntimeError(f"stored {stored} readings, expected {args.readings}")
        if drain is not None:
            figures["drain"], figures["cpu"] = await _drain_rollups(drain[0], meter)
            await drain[1].dispose()
            drain = None
        else:
            figures["drain"], figures["cpu"] = 0.0, meter.stop()
        server.send_signal(signal.SIGTERM)
        server.wait(30)
        if copy:  # as stored (the baseline) and as sent, taking turns at going first
            for ordered in (True, False) if copy % 2 else (False, True):
                label = "copy" if ordered else "copy_sent"
                figures[label], figures[f"{label}_cpu"] = await _copy_all(
                    dsn, copy_batches(args, ordered), args.clients
                )
    finally:
        if drain is not None:
            await drain[1].dispose()
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
        if not args.keep:
            await _drop(args.admin_url, name)
    return figures


def _label(rollups: bool) -> str:
    return "with upkeep (summary folded)" if rollups else "without upkeep"


async def run(args) -> int:
    """Run the measurements in alternating trials after untimed warm-ups; print each, then the median rates,
    ratios and rollup cost."""
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would drown the figures
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("db.central.storage.partitions").setLevel(logging.WARNING)
    print(f"encoding {args.readings:,} readings in batches of {args.batch} ...", flush=True)
    bodies = make_bodies(args.readings, args.batch, args.points, args.sites)
    modes = {"both": (True, False), "on": (True,), "off": (False,)}[args.rollups]
    rates: dict[bool, list[float]] = {mode: [] for mode in modes}
    copy_rates: list[float] = []  # the baseline: each batch as the API stores it
    sent_rates: list[float] = []  # each batch as the edge sends it
    cpus: dict[bool, list[float]] = {mode: [] for mode in modes}  # µs per reading
    print(
        f"uploadReadings over HTTP: {args.clients} clients, {args.workers} API worker(s); "
        f"with upkeep = until every upload is folded (the rest folded at once when the uploads end)"
    )
    loops = ", ".join(
        f"{module} {'in C' if built else 'in Python'}" for module, built in native_loops().items()
    )
    print(f"central's per-reading loops (db/central/native.py): {loops}")
    for _ in range(args.warmup):
        # The first upload of a run was the slowest whatever its mode (1.6 s against 1.5 without rollups),
        # and it was always the one with rollups: its cost counted as upkeep.
        figures = await _measure_upload(args, bodies, modes[0], copy=0)
        print(f"  warm-up, {_label(modes[0])}, not counted: {figures['upload']:.1f} s uploading", flush=True)
    for trial in range(1, args.trials + 1):
        for rollups in modes if trial % 2 else modes[::-1]:  # each mode goes first in turn
            figures = await _measure_upload(args, bodies, rollups, copy=trial if rollups == modes[0] else 0)
            rates[rollups].append(args.readings / (figures["upload"] + figures["drain"]))
            drained = f" + {figures['drain']:.1f} s folding" if rollups else ""
            print(
                f"  trial {trial}, {_label(rollups)}: {rates[rollups][-1]:,.0f} readings/s "
                f"({figures['upload']:.1f} s uploading{drained})",
                flush=True,
            )
            print("    " + figures["cpu"].describe(args.readings, "reading"), flush=True)
            split = figures["cpu"]
            cpus[rollups].append((split.client + split.server + split.postgres) * 1e6 / args.readings)
            if "copy" in figures:
                copy_rates.append(args.readings / figures["copy"])
                sent_rates.append(args.readings / figures["copy_sent"])
                for rate, key, order in (
                    (copy_rates[-1], "copy", "as stored"),
                    (sent_rates[-1], "copy_sent", "as sent"),
                ):
                    print(
                        f"  trial {trial}, raw asyncpg COPY ({args.clients} connections), each batch {order}: "
                        f"{rate:,.0f} rows/s"
                    )
                    print("    " + figures[f"{key}_cpu"].describe(args.readings, "row"), flush=True)
    copy_rate, sent_rate = statistics.median(copy_rates), statistics.median(sent_rates)
    print(f"medians of {args.trials} trial(s):")
    for rollups, values in rates.items():
        print(f"  uploadReadings over HTTP, {_label(rollups)}: {statistics.median(values):,.0f} readings/s")
    print(
        f"  raw asyncpg COPY into readings, each batch in (point, time) order as the API stores it: {copy_rate:,.0f} rows/s"
    )
    print(
        f"  raw asyncpg COPY into readings, each batch in the order the edge sends it: {sent_rate:,.0f} rows/s"
    )
    # the faster of the two is the baseline: both copy the same rows, in an order of the copier's choosing
    baseline, order = max((copy_rate, "as stored"), (sent_rate, "as sent"))
    for rollups, values in rates.items():
        target = "target >= 0.7" if rollups else "without upkeep the API does less than it must"
        rate = statistics.median(values)
        print(
            f"ratio HTTP/COPY {_label(rollups)}: {rate / baseline:.2f} ({target}; against the faster COPY, "
            f"each batch {order}; {rate / copy_rate:.2f} / {rate / sent_rate:.2f} against COPY as stored / as sent)"
        )
    if len(rates) == 2:
        cost = 1 - statistics.median(rates[True]) / statistics.median(rates[False])
        paired = describe(pair_costs(rates[True], rates[False]), "trial")
        print(f"upkeep (the summary fold) cost: {cost:.0%} of ingest throughput (target <= 15%); {paired}")
        on, off = (statistics.median(cpus[mode]) for mode in (True, False))
        print(
            f"  in CPU (load generator + API + this database's backends): {on:.1f} vs {off:.1f} µs per reading, "
            f"upkeep {1 - off / on:.0%} of the CPU with upkeep; {describe(cpu_pair_costs(cpus[True], cpus[False]), 'trial')}"
        )
    return 0
