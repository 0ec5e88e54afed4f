"""Monthly readings partitions on PostgreSQL: created ahead, spanned by queries, dropped by retention."""

import asyncio
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import text

from db.central.storage.partitions import (
    drop_partitions_before,
    ensure_partitions,
    list_partitions,
    month_start,
    partition_name,
)
from db.engine import make_engine


def test_month_start_crosses_years():
    assert month_start(date(2026, 11, 27), 2) == date(2027, 1, 1)  # pure calendar arithmetic
    assert month_start(date(2026, 1, 5), -1) == date(2025, 12, 1)


def test_partitions_created_ahead_and_spanned(central_pg_url, dated_clock):
    today = dated_clock.today()
    five_ahead = datetime.combine(month_start(today, 5), time(), UTC) + timedelta(days=14)

    async def _run():
        engine = make_engine(central_pg_url)
        async with engine.begin() as conn:
            created = await conn.run_sync(lambda c: ensure_partitions(c, months_ahead=5))
            names = await conn.run_sync(list_partitions)
            await conn.execute(
                text("INSERT INTO readings VALUES (999001, :a, 1.0, 0), (999001, :b, 2.0, 0)"),
                {"a": datetime.combine(month_start(today), time(), UTC), "b": five_ahead},
            )
            total = await conn.scalar(text("SELECT sum(value) FROM readings WHERE point_id = 999001"))
            held_in = await conn.scalar(
                text("SELECT tableoid::regclass::text FROM readings WHERE point_id = 999001 AND ts = :b"),
                {"b": five_ahead},
            )
            await conn.execute(text("DELETE FROM readings WHERE point_id = 999001"))
        await engine.dispose()
        return created, names, total, held_in

    created, names, total, held_in = asyncio.run(_run())
    assert held_in == partition_name(month_start(today, 5))
    for shift in range(0, 6):
        month = month_start(today, shift)
        assert f"readings_y{month.year:04d}m{month.month:02d}" in names
    assert "readings_default" in names
    assert total == 3.0


def test_retention_drops_old_months(central_pg_url, dated_clock):
    async def _run():
        engine = make_engine(central_pg_url)
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: ensure_partitions(c, months_back=14, months_ahead=0))
            dropped = await conn.run_sync(
                lambda c: drop_partitions_before(c, month_start(dated_clock.today(), -12))
            )
            names = await conn.run_sync(list_partitions)
        await engine.dispose()
        return dropped, names

    dropped, names = asyncio.run(_run())
    assert dropped and not set(dropped) & set(names)


def test_new_partition_takes_over_rows_stranded_in_default(central_pg_url):
    """History uploaded before its month had a partition moves into the partition when it is created."""
    old = datetime(2019, 5, 17, 12, tzinfo=UTC)

    async def _run():
        engine = make_engine(central_pg_url)
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO readings VALUES (999002, :ts, 5.0, 0)"), {"ts": old})
            created = await conn.run_sync(
                lambda c: ensure_partitions(c, months_back=0, months_ahead=0, today=old.date())
            )
            in_default = await conn.scalar(
                text("SELECT count(*) FROM readings_default WHERE point_id = 999002")
            )
            in_month = await conn.scalar(
                text("SELECT count(*) FROM readings_y2019m05 WHERE point_id = 999002")
            )
            await conn.execute(text("DELETE FROM readings WHERE point_id = 999002"))
        await engine.dispose()
        return created, in_default, in_month

    assert asyncio.run(_run()) == (["readings_y2019m05"], 0, 1)
