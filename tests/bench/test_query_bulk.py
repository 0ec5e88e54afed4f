"""The bench's set-based summary build (bench/query_bulk.py) leaves exactly the rows the worker's fold leaves."""

import random
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.query_bulk import bulk_summary, generate_meter
from db.central.energy_summary import rebuild_summary
from db.central.ingest.batch import insert_rows
from db.central.rollups.points import forget_point_infos, point_infos
from db.energy import Sample
from db.engine import asyncpg_connection, session_scope
from tests.db.energy.test_consumption_rules import history, steps
from tests.support.energy import Db, make_point

ROLLOVER = 10_000.0
START = datetime(2026, 3, 28, 21, 7, 13, 250_000, tzinfo=UTC)  # data, not the clock: Berlin's DST night
TABLES = {
    "energy_quarters": "q",
    "energy_days": "day",
    "energy_summary_state": "point_id",
}


async def snapshot(db: Db, points: list[int]) -> dict[str, list[tuple]]:
    """Every summary row of the points, in key order."""
    async with session_scope(db.sessions) as session:
        conn = await asyncpg_connection(session)
        return {
            table: [
                # kept rows (tail) are the worker's, not the bulk build's
                tuple(v for k, v in row.items() if k != "tail")
                for row in await conn.fetch(
                    f"SELECT * FROM {table} WHERE point_id = ANY($1::bigint[]) ORDER BY point_id, {key}",
                    points,
                )
            ]
            for table, key in TABLES.items()
        }


async def both_ways(db: Db, points: list[int]) -> tuple[dict, dict]:
    """The summary as the worker's fold leaves it, then as the bulk build leaves it."""
    forget_point_infos()
    async with session_scope(db.sessions) as session:
        infos = await point_infos(session, points)
        for point in points:  # as bench/query_energy.py did: one point at a time through the worker's fold
            await rebuild_summary(session, [point], {point: infos[point]})
    folded = await snapshot(db, points)
    async with session_scope(db.sessions) as session:
        conn = await asyncpg_connection(session)
        for table in TABLES:
            await conn.execute(f"DELETE FROM {table} WHERE point_id = ANY($1::bigint[])", points)
        await bulk_summary(conn, infos)
    return folded, await snapshot(db, points)


async def store(db: Db, point: int, rows: list[Sample]) -> None:
    async with session_scope(db.sessions) as session:
        await insert_rows(session, [(point, s.ts, s.value, s.quality) for s in rows])


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    drawn=st.lists(st.lists(steps, min_size=0, max_size=120), min_size=1, max_size=3),
    value=st.floats(0, ROLLOVER - 1, allow_nan=False),
    zone=st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC"]),
    cumulative=st.booleans(),
    wraps=st.booleans(),
    jitter=st.integers(0, 999_999),
)
def test_bulk_summary_equals_the_worker_fold(own_db, drawn, value, zone, cumulative, wraps, jitter):
    rollover = ROLLOVER if wraps else None
    points = []
    for n, part in enumerate(drawn):  # several points of one kind, folded in one statement
        point = own_db.run(make_point(own_db, timezone=zone, rollover=rollover, cumulative=cumulative))
        start = START + timedelta(microseconds=jitter, hours=5 * n)
        rows = history(part, start, value, rollover)
        random.Random(n).shuffle(rows)
        own_db.run(store(own_db, point, rows))
        points.append(point)
    folded, bulk = own_db.run(both_ways(own_db, points))
    assert bulk == folded


def test_a_generated_year_folds_the_same_both_ways(own_db):
    """A week of the bench's own generated minutes (energy and power points) in two zones."""

    async def make() -> list[int]:
        points = []
        for zone in ("Europe/Berlin", "America/New_York"):
            energy = await make_point(own_db, timezone=zone)
            power = await make_point(
                own_db, timezone=zone, cumulative=False, unit="kilowatts", name="power_kw"
            )
            async with session_scope(own_db.sessions) as session:
                await generate_meter(
                    await asyncpg_connection(session), energy, power, START, 7 * 1440, energy
                )
            points += [energy, power]
        return points

    points = own_db.run(make())
    folded, bulk = own_db.run(both_ways(own_db, points))
    assert len(folded["energy_quarters"]) >= 4 * 7 * 96
    assert bulk == folded


def test_the_tail_quarter_is_not_stored_and_the_quarters_before_it_are_whole(own_db):
    """Readings end 14 minutes into a quarter: that quarter (the tail, not whole) is read raw by queries, so
    neither build stores it; the quarters before it are covered by readings and count for demand."""
    start = START.replace(minute=0, second=0, microsecond=0)
    rows = [Sample(start + timedelta(minutes=k), 100.0 + k / 10, 0) for k in range(75)]
    point = own_db.run(make_point(own_db, timezone="Europe/Berlin"))
    own_db.run(store(own_db, point, rows))
    folded, bulk = own_db.run(both_ways(own_db, [point]))
    assert bulk == folded
    assert own_db.run(wholes(own_db, point)) == [True] * 4  # 21:00 … 21:45; 22:00 … 22:14 is the tail


async def wholes(db: Db, point: int) -> list[bool]:
    async with session_scope(db.sessions) as session:
        conn = await asyncpg_connection(session)
        return [
            r[0]
            for r in await conn.fetch(
                "SELECT whole FROM energy_quarters WHERE point_id = $1 ORDER BY q", point
            )
        ]
