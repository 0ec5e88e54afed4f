"""`meterit bench edge-poll --agent`: a real `meterit edge` process polling N meters × M points on a steady interval.

The simulated meters run in processes of their own (`meterit simulate`, one per 250 meters unless told),
one loopback address each from 127.61.0.10 upwards; the agent uploads to a real central (`meterit api` on a
throwaway database). Prints the agent's CPU per 1,000 values and its share of one core (from /proc/<pid>/stat
over the measured window), the simulators' CPU apart, the load average, and the agent's resident memory
(VmRSS, peak VmHWM) after its first full poll beside the figure at the end.
"""

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time

from bench.cpu import TICKS, _stat_fields
from bench.edge_rig import simulator_count, spawn_simulators, stop_all

BASE = "127.61.0.10"
AGENT_BIND = "127.61.0.1"


def _cpu_seconds(pid: int) -> float:
    fields = _stat_fields(pid)
    return sum(int(v) for v in fields[11:13]) / TICKS if fields else 0.0


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of a process, in MB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS", "VmHWM")):
                out[line.split(":")[0]] = int(line.split()[1]) / 1024
    return out


def _spawn(args: list[str], env: dict, log: str, cwd: str) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "meterit.cli", *args],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
        )


def _values(db: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM recent_readings").fetchone()[0]


async def _wait_for_simulators(logs: list[str], children: list[subprocess.Popen], timeout: float) -> None:
    """Until every simulator says it serves its meters (it prints that once all are bound)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(child.poll() is not None for child in children):
            raise RuntimeError(f"a simulator exited; see {os.path.dirname(logs[0])}")
        if all(os.path.exists(log) and b"simulating " in open(log, "rb").read() for log in logs):
            return
        await asyncio.sleep(0.5)
    raise RuntimeError(f"the simulators did not start within {timeout:.0f} s")


async def measure_agent(
    meters: int, points: int, interval: float, seconds: float, local_api: bool, simulators: int = 0
) -> dict:
    """Run simulators + central + agent; measure the agent over `seconds` after its first full poll."""
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from db.migrate import upgrade
    from edge_agent.meters import parse_meters, save_meters_file
    from edge_agent.simulator.fleet import SimulatorFleet
    from tests.edge_agent.central_support import new_site
    from tests.support.central_server import CentralServer, free_port
    from tests.support.pg import create_database, drop_database

    work = tempfile.mkdtemp(prefix="meterit-bench-agent-")
    name = f"meterit_bench_agent_{os.getpid()}"
    url = await create_database(name)
    children: list[subprocess.Popen] = []
    agent = None
    server = CentralServer(url, log_path=f"{work}/central.log", startup_timeout=120)
    try:
        await asyncio.to_thread(upgrade, "central", url)
        _, key = await new_site(url)
        db = f"{work}/edge.db"
        await asyncio.to_thread(upgrade, "edge", f"sqlite+aiosqlite:///{db}")
        await asyncio.to_thread(server.start)
        save_meters_file(
            f"{work}/meters.json", parse_meters(SimulatorFleet(meters, BASE, points).meters_config())
        )
        count = simulator_count(meters, simulators)
        children = spawn_simulators(BASE, meters, points, count, log_dir=work)
        logs = [f"{work}/simulator-{k + 1}.log" for k in range(count)]
        await _wait_for_simulators(logs, children, 120 + meters / 5)
        env = {
            "CLIENT_API_URL": server.url,
            "CLIENT_API_KEY": key,
            "DATABASE_URL": f"sqlite+aiosqlite:///{db}",
            "METERS_FILE": f"{work}/meters.json",
            "COLLECTION_INTERVAL_SECONDS": str(interval),
            "SYNC_INTERVAL_SECONDS": str(interval),
            "BACNET_INTERFACE": f"{AGENT_BIND}/8",
            "BACNET_PORT": "47809",
            "METRICS_PORT": "0",
            "LOCAL_API_PORT": str(free_port()),
            "LOG_DIR": f"{work}/edge-logs",
        }
        agent = _spawn(
            ["edge", *([] if local_api else ["--no-local-api"]), "run"], env, f"{work}/edge.log", work
        )
        expected = meters * points
        deadline = time.monotonic() + 120 + meters / 5
        while _values(db) < expected and time.monotonic() < deadline:  # first full poll (and probing) done
            if agent.poll() is not None:
                raise RuntimeError(f"the agent exited; see {work}/edge.log")
            await asyncio.sleep(0.5)
        startup = memory_mb(agent.pid)
        await asyncio.sleep(interval / 2)
        load_before = os.getloadavg()
        values, cpu, wall = _values(db), _cpu_seconds(agent.pid), time.perf_counter()
        sim_cpu = sum(_cpu_seconds(child.pid) for child in children)
        await asyncio.sleep(seconds)
        values, cpu = _values(db) - values, _cpu_seconds(agent.pid) - cpu
        sim_cpu = sum(_cpu_seconds(child.pid) for child in children) - sim_cpu
        wall = time.perf_counter() - wall
        load_after = os.getloadavg()
        memory = memory_mb(agent.pid)
        queued = sqlite3.connect(db).execute("SELECT count(*) FROM outbox").fetchone()[0]
    finally:
        if agent is not None:
            stop_all([agent])
        stop_all(children)
        await asyncio.to_thread(server.stop)
        await drop_database(name)
    return {
        "values": values,
        "expected_per_s": expected / interval,
        "wall": wall,
        "cpu": cpu,
        "simulators": len(children),
        "simulator_cpu": sim_cpu,
        "load": (load_before[0], load_after[0]),
        "startup": startup,
        "memory": memory,
        "queued": queued,
        "workdir": work,
    }


def print_agent(m: dict, meters: int, points: int, interval: float, target_share: float) -> None:
    """The figures of measure_agent beside the memory after the first poll and the targets."""
    share = m["cpu"] / m["wall"]
    per_1000 = m["cpu"] * 1000 / max(m["values"], 1) * 1000
    sim_share = m["simulator_cpu"] / m["wall"]
    sim_per_1000 = m["simulator_cpu"] * 1000 / max(m["values"], 1) * 1000
    print(
        f"meterit edge, {meters} meters x {points} points every {interval:g} s, {m['wall']:.0f} s measured:"
    )
    print(
        f"  values {m['values']:,} ({m['values'] / m['wall']:.0f}/s, expected {m['expected_per_s']:.0f}/s); "
        f"outbox left {m['queued']:,}"
    )
    print(
        f"  agent CPU {per_1000:.1f} ms per 1,000 values; {share:.1%} of one core (target < {target_share:.0%})"
    )
    print(
        f"  simulators ({m['simulators']} process{'es' if m['simulators'] > 1 else ''}, apart): "
        f"CPU {sim_per_1000:.1f} ms per 1,000 values; "
        f"{sim_share:.1%} of one core; load average {m['load'][0]:.1f} -> {m['load'][1]:.1f} (2 cores)"
    )
    rss = m["memory"]["VmRSS"]
    # issue 23's memory target is for 100 meters x 10 points; other fleets print their figure without a verdict
    verdict = (
        f"target < 100 MB: {'met' if rss < 100 else 'MISSED'}"
        if meters * points <= 1000
        else ("the < 100 MB target is for 100 x 10")
    )
    print(
        f"  agent RSS {rss:.1f} MB (peak {m['memory']['VmHWM']:.0f} MB); "
        f"after the first full poll {m['startup'].get('VmRSS', 0):.1f} MB (MB = 2^20 bytes; {verdict})"
    )
    print(json.dumps({"workdir": m["workdir"]}))
