"""Partitions are created ahead and queries span them; retention drops raw data and keeps the rollups."""

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select, text

from db.central.models import Reading
from db.central.rollups.models import DailyRollup, HourlyRollup
from db.central.storage.maintenance import maintain_storage
from db.central.storage.partitions import ensure_partitions, list_partitions, month_start, partition_name
from db.engine import session_scope
from db.migrate import upgrade
from tests.support.energy import Db, ingest, make_point


def hourly_rows(start: datetime, hours: int, first: float = 0.0) -> list[tuple]:
    """One reading an hour, +2 kWh each."""
    return [(start + timedelta(hours=n), first + 2.0 * n, 0) for n in range(hours)]


async def _counts(db: Db, point: int, start: datetime, end: datetime) -> tuple[int, int, int, float]:
    async with session_scope(db.sessions) as session:
        raw = await session.scalar(
            select(func.count()).where(Reading.point_id == point, Reading.ts >= start, Reading.ts < end)
        )
        hours = await session.scalar(
            select(func.sum(HourlyRollup.count)).where(
                HourlyRollup.point_id == point, HourlyRollup.bucket >= start, HourlyRollup.bucket < end
            )
        )
        days = await session.scalar(
            select(func.sum(DailyRollup.count)).where(
                DailyRollup.point_id == point, DailyRollup.bucket >= start, DailyRollup.bucket < end
            )
        )
        energy = await session.scalar(
            select(func.sum(DailyRollup.consumption)).where(
                DailyRollup.point_id == point, DailyRollup.bucket >= start, DailyRollup.bucket < end
            )
        )
        return raw, hours or 0, days or 0, energy or 0.0


def midnight(day: date) -> datetime:
    """00:00 UTC of a day."""
    return datetime.combine(day, time(), UTC)


def test_partitions_ahead_queries_span_them_and_retention_keeps_rollups(new_pg_database, dated_clock):
    today = dated_clock.today()
    url = new_pg_database()
    upgrade("central", url)  # its partitions ahead come from the same clock
    db = Db(url)
    try:
        report = db.run(maintain_storage(db.engine, raw_retention_days=400, months_ahead=4))
        assert report.created == [partition_name(month_start(today, 4))]
        old_month = month_start(today, -17)
        db.run(_ensure_history(db, old_month))
        point = db.run(make_point(db))
        old_start = midnight(old_month)
        db.run(ingest(db, point, hourly_rows(old_start, 24 * 28)))
        span_start = midnight(month_start(today, 1)) - timedelta(days=7)
        db.run(ingest(db, point, hourly_rows(span_start, 24 * 20, first=10_000.0)))  # into next month
        span_end = span_start + timedelta(days=20)
        assert db.run(_partitions_holding(db, point, span_start)) == {
            partition_name(month_start(today)),
            partition_name(month_start(today, 1)),
        }
        assert db.run(_counts(db, point, span_start, span_end))[:3] == (480, 480, 480)

        report = db.run(maintain_storage(db.engine, raw_retention_days=90))
        assert partition_name(old_month) in report.dropped
        raw, hours, days, energy = db.run(_counts(db, point, old_start, old_start + timedelta(days=28)))
        assert (raw, hours, days) == (0, 672, 672)
        assert energy == 2.0 * 671
        assert db.run(_counts(db, point, span_start, span_end))[0] == 480
    finally:
        db.close()


async def _ensure_history(db: Db, oldest: date) -> None:
    async with db.engine.begin() as conn:
        await conn.run_sync(lambda c: ensure_partitions(c, months_back=18, months_ahead=0))
        assert partition_name(oldest) in await conn.run_sync(list_partitions)


async def _partitions_holding(db: Db, point: int, since: datetime) -> set[str]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT DISTINCT tableoid::regclass::text FROM readings WHERE point_id = :p AND ts >= :t"),
            {"p": point, "t": since},
        )
        return {r[0] for r in rows}


def test_sqlite_retention_deletes_old_rows_and_keeps_rollups(sqlite_url, dated_clock):
    today = dated_clock.today()
    upgrade("central", sqlite_url)
    db = Db(sqlite_url)
    try:
        point = db.run(make_point(db))
        old_start = midnight(today - timedelta(days=540))
        db.run(ingest(db, point, hourly_rows(old_start, 48)))
        db.run(ingest(db, point, hourly_rows(midnight(today - timedelta(days=7)), 24, first=500.0)))
        report = db.run(maintain_storage(db.engine, raw_retention_days=90))
        assert report.deleted_rows == 48 and report.created == []
        assert db.run(_counts(db, point, old_start, old_start + timedelta(days=2))) == (0, 48, 48, 94.0)
    finally:
        db.close()
