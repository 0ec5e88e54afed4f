"""The energy rows of `meterit bench query`: consumption per 15 min, local day and local month (db/central/energy_query.py).

The energy query reads the stored 15-minute summary (db/central/energy_summary.py, built here by the same fold
the rollup worker runs); beside it, in the same run, the same query over raw readings only and a plain
SQL sum over the stored summary rows (what the summary costs to read without the query's rules).
"""

import os
import random
from datetime import datetime, timedelta

from sqlalchemy import text

from bench.cpu import own_cpu_seconds, tree_cpu_seconds
from bench.query_bulk import build_summary_bulk
from bench.query_sql import LOCAL_SUMMARY, QUARTER_SUMMARY, SITE_SUMMARY
from db.central.energy_query import energy_page, energy_point
from db.central.energy_totals import site_totals
from db.energy import local_day
from db.engine import make_engine, make_sessionmaker, session_scope

TARGET_P95_MS = 20.0


class CpuTimer:
    """Wall-clock p50/p95 and CPU per run (this process + the one PostgreSQL backend the query uses)."""

    def __init__(self, timed, backend: int):
        self.timed, self.backend = timed, backend

    async def __call__(self, repeat: int, work) -> tuple[float, float, float]:
        began = own_cpu_seconds() + tree_cpu_seconds(self.backend)
        p50, p95 = await self.timed(repeat, work)
        used = own_cpu_seconds() + tree_cpu_seconds(self.backend) - began
        return p50, p95, used / (repeat + 2) * 1000  # timed() runs two warm-ups too


async def energy_rows(args, url: str, conn, fleet, now: datetime, span_days: float, timed) -> float:
    """Time the energy query beside its baselines; print the rows; return the worst p95 (ms)."""
    # One connection, so the CPU of its PostgreSQL backend is the query's (the machine is shared).
    engine = make_engine(url.replace("postgresql://", "postgresql+asyncpg://", 1), pool_size=1)
    try:
        sessions = make_sessionmaker(engine)
        async with session_scope(sessions) as session:
            backend = await session.scalar(text("SELECT pg_backend_pid()"))
        timers = CpuTimer(timed, backend), CpuTimer(timed, await conn.fetchval("SELECT pg_backend_pid()"))
        return await _energy_rows(args, url, sessions, conn, fleet, now, span_days, *timers)
    finally:
        await engine.dispose()


async def _energy_rows(args, url, sessions, conn, fleet, now, span_days: float, timed, timed_sql) -> float:
    rng = random.Random(11)
    meters = list(fleet.points)
    points = [fleet.points[m][0] for m in meters]
    if not await conn.fetchval(
        "SELECT count(*) FROM energy_summary_state WHERE point_id = ANY($1::bigint[])", points
    ):
        built = await build_summary_bulk(url, sessions, points)
        rows = await conn.fetchval("SELECT count(*) FROM readings WHERE point_id = ANY($1::bigint[])", points)
        print(
            f"  energy summary of {len(points)} registers built set-based in {built:.0f} s"
            f" ({rows / built:,.0f} readings/s; the same rows as the worker's fold)"
        )
    zones = {
        row["id"]: row["timezone"]
        for row in await conn.fetch(
            "SELECT dp.id, s.timezone FROM data_points dp JOIN meters m ON m.id = dp.meter_id"
            " JOIN sites s ON s.id = m.site_id"
        )
    }
    year = min(timedelta(days=365), timedelta(days=span_days))

    def energy(resolution: str, span: timedelta, summary: bool):
        async def work():
            point = fleet.points[rng.choice(meters)][0]
            async with session_scope(sessions) as session:
                facts = await energy_point(session, point)
                await energy_page(session, facts, now - span, now, resolution, 1000, summary=summary)

        return work

    def baseline(resolution: str, span: timedelta):
        async def work():
            point = fleet.points[rng.choice(meters)][0]
            if resolution == "quarter_hour":
                await conn.fetch(QUARTER_SUMMARY, point, now - span, now)
            else:
                await conn.fetch(LOCAL_SUMMARY, point, now - span, now, resolution, zones[point])

        return work

    shapes = [
        ("15 min, 1 day", "quarter_hour", timedelta(days=1)),
        ("15 min, 7 days", "quarter_hour", timedelta(days=7)),
        ("daily, 31 days", "day", timedelta(days=31)),
        (f"daily, {year.days} days", "day", year),
        (f"monthly, {year.days} days", "month", year),
    ]
    repeat = max(5, args.repeat // 2)
    raw_repeat = max(3, args.repeat // 8)
    print(
        f"energy query of one meter (a random one of {len(meters)} per run; the API's `energy` path: session,"
        " point facts, page): wall p50 / p95 ms and CPU ms per query (client + its PostgreSQL backend)"
    )
    print(
        f"{'':22} {'summary p50 / p95 / CPU':>25}   {'raw scan p50 / p95 / CPU':>26}"
        f"   {'SQL over summary p50 / p95 / CPU':>32}   load"
    )
    worst = 0.0
    for label, resolution, span in shapes:
        p50, p95, cpu = await timed(repeat, energy(resolution, span, True))
        r50, r95, rcpu = await timed(raw_repeat, energy(resolution, span, False))
        b50, b95, bcpu = await timed_sql(repeat, baseline(resolution, span))
        worst = max(worst, p95)
        print(
            f"{label:22} {p50:7.1f} / {p95:6.1f} / {cpu:5.1f}   {r50:7.1f} / {r95:7.1f} / {rcpu:6.1f}"
            f"   {b50:13.1f} / {b95:6.1f} / {bcpu:5.1f}   {os.getloadavg()[0]:4.1f}"
        )
    await _site_rows(sessions, conn, fleet, now, year, repeat, timed, timed_sql)
    verdict = "met" if worst < TARGET_P95_MS else "MISSED"
    print(f"worst energy p95 {worst:.1f} ms (target < {TARGET_P95_MS:.0f} ms: {verdict})")
    print(
        "(summary and raw scan give the same answers: interpolated edges, resets, gaps, completeness, demand;"
        " the SQL only sums stored consumption)"
    )
    return worst


async def _site_rows(sessions, conn, fleet, now: datetime, year: timedelta, repeat: int, timed, timed_sql):
    """A site's totals per local day and month (energy_totals.site_totals: every kWh register of the site)."""
    rng = random.Random(13)
    zones = dict(await conn.fetch("SELECT id, timezone FROM sites"))

    def site():
        site_id = rng.choice(fleet.site_ids)
        return site_id, [fleet.points[m][0] for m in fleet.meters[site_id]]

    def totals(resolution: str, span: timedelta):
        async def work():
            site_id, _ = site()
            zone = zones[site_id]
            async with session_scope(sessions) as session:
                await site_totals(
                    session, [site_id], local_day(now - span, zone), local_day(now, zone), resolution
                )

        return work

    def baseline(resolution: str, span: timedelta):
        async def work():
            site_id, points = site()
            await conn.fetch(SITE_SUMMARY, points, now - span, now, resolution, zones[site_id])

        return work

    size = max(len(m) for m in fleet.meters.values())
    print(f"site totals (energy_totals.site_totals, a random site of {size} meters; not in the target):")
    for label, resolution, span in (
        ("site daily, 31 days", "day", timedelta(days=31)),
        (f"site monthly, {year.days} d", "month", year),
    ):
        p50, p95, cpu = await timed(repeat, totals(resolution, span))
        b50, b95, bcpu = await timed_sql(repeat, baseline(resolution, span))
        print(
            f"{label:22} {p50:7.1f} / {p95:6.1f} / {cpu:5.1f}   {'':26}"
            f"   {b50:13.1f} / {b95:6.1f} / {bcpu:5.1f}   {os.getloadavg()[0]:4.1f}"
        )
