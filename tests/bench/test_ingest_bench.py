"""`meterit bench ingest`: the COPY baselines hold the uploads' own readings, batch for batch, and the uploads'
points exist before they are timed."""

import asyncio
import json
import re
import subprocess
import sys
import uuid
from types import SimpleNamespace

import asyncpg

from bench.ingest import _drop, _prepare, copy_batches, make_bodies


def test_copy_batches_hold_the_uploads_readings_as_sent_and_as_stored():
    args = SimpleNamespace(readings=1_000, batch=70, points=40, sites=3)
    bodies = make_bodies(args.readings, args.batch, args.points, args.sites)
    uploads = {}  # (site, batch number) -> [(point, value)]
    for site, site_bodies in enumerate(bodies):
        for n, body in enumerate(site_bodies):
            items = json.loads(body)["variables"]["batch"]["readings"]
            uploads[(site, n)] = [
                (int(r["meter_external_id"][6:]) * 2 + (r["data_point"] == "power_kw"), r["value"])
                for r in items
            ]
    turns = [key for n in range(max(len(b) for b in bodies)) for key in sorted(uploads) if key[1] == n]
    as_sent, as_stored = copy_batches(args, ordered=False), copy_batches(args, ordered=True)
    assert len(as_sent) == len(as_stored) == len(uploads)
    for key, sent, stored in zip(turns, as_sent, as_stored, strict=True):  # the sites' batches in turn
        assert [(row[0] - 10**9, row[2]) for row in sent] == uploads[key]
        assert sorted((row[0] - 2 * 10**9, row[2]) for row in stored) == sorted(uploads[key])
        assert stored == sorted(stored, key=lambda row: row[:2])
        assert {row[1] for row in sent} == {row[1] for row in stored}


def test_the_sites_points_exist_before_the_timed_uploads(pg_server):
    """_prepare registers every (meter, point) the bodies upload, each in its site: the timed uploads, like the
    COPY baseline, store readings of points that exist."""
    sites, points = 3, 40
    name = f"meterit_bench_test_{uuid.uuid4().hex[:8]}"
    dsn, keys = asyncio.run(_prepare(pg_server, name, sites, points))
    try:
        wanted = [
            {(r["meter_external_id"], r["data_point"], r["unit"]) for body in site_bodies
             for r in json.loads(body)["variables"]["batch"]["readings"]}
            for site_bodies in make_bodies(400, 70, points, sites)
        ]  # fmt: skip

        async def registered() -> list[set]:
            conn = await asyncpg.connect(dsn)
            try:
                rows = await conn.fetch(
                    "SELECT s.name, m.external_id, p.name, p.unit FROM data_points p "
                    "JOIN meters m ON m.id = p.meter_id JOIN sites s ON s.id = m.site_id"
                )
            finally:
                await conn.close()
            out = [set() for _ in range(sites)]
            for site, meter, point, unit in rows:
                out[int(site.rsplit("-", 1)[1])].add((meter, point, unit))
            return out

        assert len(keys) == sites
        assert asyncio.run(registered()) == wanted
    finally:
        asyncio.run(_drop(pg_server, name))


def test_a_small_bench_ingest_run_prints_its_paired_upkeep_figures(pg_server):
    """End to end on a few readings: both modes uploaded over HTTP, the COPY baselines, and the upkeep's cost
    pair by pair beside the medians; none of its databases left behind."""
    command = [sys.executable, "-c", "from meterit.cli import main; main()", "bench", "ingest", "--readings", "6000",
               "--batch", "500", "--points", "40", "--sites", "2", "--clients", "2", "--workers", "1",
               "--trials", "2", "--warmup", "0", "--admin-url", pg_server]  # fmt: skip
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as bench:
        out, err = bench.communicate(timeout=280)
    assert bench.returncode == 0, err[-3000:]
    assert re.search(r"upkeep \(the summary fold\) cost: -?\d+% of ingest throughput \(target <= 15%\); "
                     r"trial pairs -?\d+% … -?\d+%, median -?\d+%", out), out  # fmt: skip
    assert re.search(
        r"upkeep -?\d+% of the CPU with upkeep; trial pairs -?\d+% … -?\d+%, median -?\d+%", out
    ), out
    assert len(re.findall(r"trial \d, with upkeep \(summary folded\): [\d,]+ readings/s", out)) == 2
    assert asyncio.run(_databases(pg_server, f"meterit_bench_{bench.pid}_")) == []


async def _databases(admin_url: str, prefix: str) -> list[str]:
    conn = await asyncpg.connect(admin_url)
    try:
        return [
            row[0] for row in await conn.fetch("SELECT datname FROM pg_database") if row[0].startswith(prefix)
        ]
    finally:
        await conn.close()
