"""Partitions are created ahead and queries span them; retention drops raw data and keeps the energy summary."""

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select, text

from db.central.energy_query import energy_pages, energy_points
from db.central.models import Reading
from db.central.storage.maintenance import maintain_storage
from db.central.storage.partitions import ensure_partitions, list_partitions, month_start, partition_name
from db.engine import session_scope
from db.migrate import upgrade
from tests.support.energy import Db, ingest, make_point


def hourly_rows(start: datetime, hours: int, first: float = 0.0) -> list[tuple]:
    """One reading an hour, +2 kWh each."""
    return [(start + timedelta(hours=n), first + 2.0 * n, 0) for n in range(hours)]


async def _counts(db: Db, point: int, start: datetime, end: datetime) -> tuple[int, int, float]:
    """Raw readings in [start, end), and the readings and kWh the `energy` query's day buckets give."""
    async with session_scope(db.sessions) as session:
        raw = await session.scalar(
            select(func.count()).where(Reading.point_id == point, Reading.ts >= start, Reading.ts < end)
        )
        facts = await energy_points(session, [point])
        days = (await energy_pages(session, list(facts.values()), start, end, "day"))[point]
    return raw, sum(b.count for b in days), sum(b.consumption or 0.0 for b in days)


def midnight(day: date) -> datetime:
    """00:00 UTC of a day."""
    return datetime.combine(day, time(), UTC)


def test_partitions_ahead_queries_span_them_and_retention_keeps_the_summary(new_pg_database, dated_clock):
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
        db.run(ingest(db, point, hourly_rows(old_start, 24 * 28), fold=True))
        span_start = midnight(month_start(today, 1)) - timedelta(days=7)
        db.run(
            ingest(db, point, hourly_rows(span_start, 24 * 20, first=10_000.0), fold=True)
        )  # into next month
        span_end = span_start + timedelta(days=20)
        assert db.run(_partitions_holding(db, point, span_start)) == {
            partition_name(month_start(today)),
            partition_name(month_start(today, 1)),
        }
        assert db.run(_counts(db, point, span_start, span_end))[:2] == (480, 480)
        old_days = (old_start, old_start + timedelta(days=27))  # before the gap to the newer readings
        before = db.run(_counts(db, point, *old_days))
        assert before == (648, 648, 2.0 * 648)

        report = db.run(maintain_storage(db.engine, raw_retention_days=90))
        assert partition_name(old_month) in report.dropped
        assert db.run(_counts(db, point, *old_days)) == (0, *before[1:])  # the summary outlives the raw rows
        assert db.run(_counts(db, point, span_start, span_end))[:2] == (480, 480)
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


def test_sqlite_retention_deletes_old_rows(sqlite_url, dated_clock):
    """The embedded SQLite stores no summary: readings older than retention are gone from every query."""
    today = dated_clock.today()
    upgrade("central", sqlite_url)
    db = Db(sqlite_url)
    try:
        point = db.run(make_point(db))
        old_start = midnight(today - timedelta(days=540))
        db.run(ingest(db, point, hourly_rows(old_start, 48)))
        recent = midnight(today - timedelta(days=7))
        db.run(ingest(db, point, hourly_rows(recent, 24, first=500.0)))
        report = db.run(maintain_storage(db.engine, raw_retention_days=90))
        assert report.deleted_rows == 48 and report.created == []
        assert db.run(_counts(db, point, old_start, old_start + timedelta(days=2))) == (0, 0, 0.0)
        assert db.run(_counts(db, point, recent, recent + timedelta(days=1))) == (24, 24, 2.0 * 23)
    finally:
        db.close()
