"""`meterit bench query` end to end on a small fleet: its upkeep comparison prints rates, CPU per reading of
both modes and the untimed queue vacuum, and it leaves no database behind."""

import asyncio
import re
import subprocess
import sys

import asyncpg


async def _bench_databases(admin_url: str) -> set[str]:
    conn = await asyncpg.connect(admin_url)
    try:
        return {
            r[0]
            for r in await conn.fetch(
                "SELECT datname FROM pg_database WHERE datname LIKE 'meterit_bench_query_%'"
            )
        }
    finally:
        await conn.close()


def test_a_small_bench_query_run_prints_its_upkeep_figures(pg_server):
    before = asyncio.run(_bench_databases(pg_server))
    args = [
        "--meters",
        "4",
        "--sites",
        "2",
        "--days",
        "0.5",
        "--ingest-hours",
        "3",
        "--repeat",
        "2",
        "--pg",
        pg_server,
    ]
    done = subprocess.run(
        [sys.executable, "-c", "from meterit.cli import main; main()", "bench", "query", *args],
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    rates = re.search(r"upkeep off: ([\d,]+) readings/s\s+upkeep on: ([\d,]+) readings/s", out)
    assert rates and all(int(r.replace(",", "")) > 0 for r in rates.groups()), out
    cpu = re.search(
        r"in CPU \(this process \+ the database's backends\): ([\d.]+) vs ([\d.]+) µs per reading", out
    )
    assert cpu and all(float(v) > 0 for v in cpu.groups()), out
    assert re.search(
        r"the queue vacuumed before each slice, untimed \(as autovacuum would\): [\d.]+ s in all", out
    )
    assert asyncio.run(_bench_databases(pg_server)) <= before  # its own database dropped
