"""The energy rows of `meterit bench query`: consumption per 15 min, local day and local month (db/energy_query.py)."""

import random
from datetime import datetime, timedelta

from bench.query_sql import LOCAL_CONSUMPTION, QUARTER_CONSUMPTION
from db.energy_query import energy_page, energy_point
from db.engine import session_scope

TARGET_P95_MS = 20.0


async def energy_rows(args, sessions, conn, fleet, now: datetime, span_days: float, timed) -> float:
    """Time the energy query beside its plain-SQL baseline; print the rows; return the worst p95 (ms)."""
    rng = random.Random(11)
    meters = list(fleet.points)
    zones = {
        row["id"]: row["timezone"]
        for row in await conn.fetch(
            "SELECT dp.id, s.timezone FROM data_points dp JOIN meters m ON m.id = dp.meter_id"
            " JOIN sites s ON s.id = m.site_id"
        )
    }
    year = min(timedelta(days=365), timedelta(days=span_days))

    def energy(resolution: str, span: timedelta):
        async def work():
            point = fleet.points[rng.choice(meters)][0]
            async with session_scope(sessions) as session:
                facts = await energy_point(session, point)
                await energy_page(session, facts, now - span, now, resolution, 1000)

        return work

    def baseline(resolution: str, span: timedelta):
        async def work():
            point = fleet.points[rng.choice(meters)][0]
            if resolution == "quarter_hour":
                await conn.fetch(QUARTER_CONSUMPTION, point, now - span, now)
            else:
                await conn.fetch(LOCAL_CONSUMPTION, point, now - span, now, resolution, zones[point])

        return work

    shapes = [
        ("15 min, 1 day", "quarter_hour", timedelta(days=1)),
        ("15 min, 7 days", "quarter_hour", timedelta(days=7)),
        ("daily, 31 days", "day", timedelta(days=31)),
        (f"daily, {year.days} days", "day", year),
        (f"monthly, {year.days} days", "month", year),
    ]
    repeat = max(5, args.repeat // 4)
    print(f"{'energy query, one meter':34} {'energy p50 / p95 ms':>22}   {'max-min SQL p50 / p95 ms':>28}")
    worst = 0.0
    for label, resolution, span in shapes:
        p50, p95 = await timed(repeat, energy(resolution, span))
        b50, b95 = await timed(repeat, baseline(resolution, span))
        worst = max(worst, p95)
        print(f"{label:34} {p50:10.1f} / {p95:8.1f}   {b50:15.1f} / {b95:9.1f}")
    verdict = "met" if worst < TARGET_P95_MS else "MISSED"
    print(f"worst energy p95 {worst:.1f} ms (target < {TARGET_P95_MS:.0f} ms: {verdict})")
    print(
        "(energy reads raw readings: interpolated edges, resets, gaps, completeness; the baseline does not)"
    )
    return worst
