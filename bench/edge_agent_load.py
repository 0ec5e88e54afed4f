"""`meterit bench edge-poll --agent`: a real `meterit edge` process polling N meters × M points on a steady interval.

The simulated meters run in their own process (`meterit simulate`), one loopback address each from
127.61.0.10 upwards; the agent uploads to a real central (`meterit api` on a throwaway database). Prints the
agent's CPU per 1,000 values and its share of one core (from /proc/<pid>/stat over the measured window),
and its resident memory (VmRSS, peak VmHWM) right after start-up beside the figure while polling.
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


async def measure_agent(meters: int, points: int, interval: float, seconds: float, local_api: bool) -> dict:
    """Run simulator + central + agent; measure the agent over `seconds` after its first full poll."""
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from db.migrate import upgrade
    from tests.edge_agent.central_support import new_site
    from tests.support.central_server import CentralServer, free_port
    from tests.support.pg import create_database, drop_database

    work = tempfile.mkdtemp(prefix="meterit-bench-agent-")
    name = f"meterit_bench_agent_{os.getpid()}"
    url = await create_database(name)
    simulator = agent = None
    server = CentralServer(url, log_path=f"{work}/central.log", startup_timeout=120)
    try:
        await asyncio.to_thread(upgrade, "central", url)
        _, key = await new_site(url)
        db = f"{work}/edge.db"
        await asyncio.to_thread(upgrade, "edge", f"sqlite+aiosqlite:///{db}")
        await asyncio.to_thread(server.start)
        simulator = _spawn(
            ["simulate", "--meters", str(meters), "--points", str(points), "--base-address", BASE]
            + ["--control-port", "0", "--write-config", f"{work}/meters.json"],
            {},
            f"{work}/simulator.log",
            work,
        )
        for _ in range(600):
            if os.path.exists(f"{work}/meters.json"):
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(2 + meters / 200)  # the simulator binds its meters after writing the file
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
        started = memory_mb(agent.pid) if agent.poll() is None else {}
        await asyncio.sleep(1.0)
        startup = memory_mb(agent.pid)
        expected = meters * points
        deadline = time.monotonic() + 120 + meters / 5
        while _values(db) < expected and time.monotonic() < deadline:  # first full poll (and probing) done
            if agent.poll() is not None:
                raise RuntimeError(f"the agent exited; see {work}/edge.log")
            await asyncio.sleep(0.5)
        await asyncio.sleep(interval / 2)
        values, cpu, wall = _values(db), _cpu_seconds(agent.pid), time.perf_counter()
        await asyncio.sleep(seconds)
        values, cpu = _values(db) - values, _cpu_seconds(agent.pid) - cpu
        wall = time.perf_counter() - wall
        memory = memory_mb(agent.pid)
        queued = sqlite3.connect(db).execute("SELECT count(*) FROM outbox").fetchone()[0]
    finally:
        for process in (agent, simulator):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
        await asyncio.to_thread(server.stop)
        await drop_database(name)
    del started
    return {
        "values": values,
        "expected_per_s": expected / interval,
        "wall": wall,
        "cpu": cpu,
        "startup": startup,
        "memory": memory,
        "queued": queued,
        "workdir": work,
    }


def print_agent(m: dict, meters: int, points: int, interval: float, target_share: float) -> None:
    """The figures of measure_agent beside the start-up memory and the targets."""
    share = m["cpu"] / m["wall"]
    per_1000 = m["cpu"] * 1000 / max(m["values"], 1) * 1000
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
        f"  RSS {m['memory']['VmRSS']:.0f} MB (peak {m['memory']['VmHWM']:.0f} MB); "
        f"just after start-up {m['startup'].get('VmRSS', 0):.0f} MB (target < 100 MB)"
    )
    print(json.dumps({"workdir": m["workdir"]}))
