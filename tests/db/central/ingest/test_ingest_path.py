"""Through db/central/ingest/batch.py: discovered points get their kind from the unit and the summary follows every upload."""

import uuid
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from api.services.readings import point_readings
from db.central.energy_parts import quarter_floor
from db.central.energy_summary_models import EnergyQuarter
from db.central.energy_totals import today_energy_by_site
from db.central.ingest.batch import ingest_batch, native_rows
from db.central.models import DataPoint, Meter
from db.central.rollups.models import RollupDirty
from db.central.rollups.queue import ROLLUP_PARTS, flush_rollups
from db.engine import driver_connection, session_scope
from tests.support.energy import Db, make_site


@pytest.fixture(scope="module")
def db(central_pg_url):
    """The session's central PostgreSQL database."""
    database = Db(central_pg_url)
    yield database
    database.close()


def wire(meter: str, point: str, ts: datetime, value: float, unit: str, quality: int = 0) -> dict:
    """One reading as the edge uploads it."""
    return {
        "meter_external_id": meter,
        "data_point": point,
        "timestamp": ts.isoformat(),
        "value": value,
        "unit": unit,
        "quality": quality,
    }


async def _upload(db: Db, site_id: int, items: list[dict]):
    async with session_scope(db.sessions) as session:
        return await ingest_batch(session, site_id, uuid.uuid4().hex, items)


async def _state(db: Db, site_id: int, now: datetime):
    async with session_scope(db.sessions) as session:
        await flush_rollups(session)  # uploads queue their ranges; the API's worker folds them in later
        points = dict(
            (
                await session.execute(
                    select(DataPoint.name, DataPoint.cumulative)
                    .join(Meter, Meter.id == DataPoint.meter_id)
                    .where(Meter.site_id == site_id)
                )
            ).all()
        )
        energy = await today_energy_by_site(session, [site_id], now)
        point_id = await session.scalar(
            select(DataPoint.id).join(Meter).where(Meter.site_id == site_id, DataPoint.name == "total_kwh")
        )
        quarters = (
            await session.scalars(select(EnergyQuarter).where(EnergyQuarter.point_id == point_id))
        ).all()
        page, _ = await point_readings(
            session, point_id, True, now - timedelta(hours=3), now + timedelta(hours=1), "hour", 100
        )
        return points, energy[site_id], quarters, page


def test_uploads_keep_the_summary_and_today_energy_current(db, dated_clock):
    now = dated_clock.now().replace(second=0, microsecond=0)
    site_id = db.run(make_site(db, "Europe/Berlin"))
    stamps = [now - timedelta(minutes=m) for m in range(120, -1, -1)]
    energy = [(ts, 5000.0 + 0.5 * n) for n, ts in enumerate(stamps)]
    late, live = energy[:60], energy[60:]
    items = [wire("m1", "total_kwh", ts, v, "kilowatt-hours") for ts, v in live]
    items += [wire("m1", "power_kw", ts, 30.0, "kilowatts", quality=n % 2) for n, (ts, _) in enumerate(live)]
    assert db.run(_upload(db, site_id, items)).new == len(items)
    # the first hour arrives after the second (an edge backlog), then a replay of it
    backlog = [wire("m1", "total_kwh", ts, v, "kilowatt-hours") for ts, v in late]
    assert db.run(_upload(db, site_id, backlog)).new == len(backlog)
    assert db.run(_upload(db, site_id, backlog)).duplicates == len(backlog)

    points, today, quarters, page = db.run(_state(db, site_id, now))
    assert points == {"total_kwh": True, "power_kw": False}  # inferred from the BACnet units
    # the fold stored every quarter before the newest reading's (that one and later ones are read raw)
    tail = quarter_floor(now)
    assert sum(q.count for q in quarters) == len([ts for ts in stamps if ts < tail])
    assert sum(q.consumption or 0 for q in quarters) == pytest.approx(
        0.5 * (tail - stamps[0]) / timedelta(minutes=1)
    )
    midnight = now.astimezone(ZoneInfo("Europe/Berlin")).replace(hour=0, minute=0)
    # each reading after local midnight closes one 0.5 kWh interval, except the very first reading
    closing = [ts for ts, _ in energy[1:] if ts > midnight]
    assert today == pytest.approx(0.5 * len(closing))
    per_hour = Counter(ts.replace(minute=0) for ts in stamps)  # Berlin's local hours are whole UTC hours
    assert [(row.ts, row.count) for row in page] == sorted(per_hour.items())
    # a bucket holding only the newest reading (now on the hour) has no consumption
    assert sum(row.consumption or 0 for row in page) == pytest.approx(0.5 * 120)


async def _logged_upload(db: Db, site_id: int, batch_id: str, items: list[dict]):
    """An upload, with the statements its connection ran."""
    seen: list[str] = []

    def log(record) -> None:
        seen.append(" ".join(record.query.split()))

    async with session_scope(db.sessions) as session:
        conn = await driver_connection(session)
        conn.add_query_logger(log)
        try:
            return await ingest_batch(session, site_id, batch_id, items), seen
        finally:
            conn.remove_query_logger(log)


async def _site_points(db: Db, site_id: int) -> set[int]:
    async with session_scope(db.sessions) as session:
        return set(await session.scalars(select(DataPoint.id).join(Meter).where(Meter.site_id == site_id)))


async def _queued(db: Db, point_ids: set[int]) -> list[tuple[list, bool]]:
    """The queue rows naming any of the points: (ranges, whether they carry rows), oldest first."""
    async with session_scope(db.sessions) as session:
        rows = (await session.execute(select(RollupDirty).order_by(RollupDirty.id))).scalars().all()
        return [
            (row.spans, row.carried is not None)
            for row in rows
            if any(pid in point_ids for _, _, pids in row.spans for pid in pids)
        ]


def test_a_new_batch_queues_its_rollup_rows_in_its_claims_statement_and_a_replay_queues_none(db, dated_clock):
    now = dated_clock.now().replace(second=0, microsecond=0)
    site_id = db.run(make_site(db))

    def minutes(first: int, last: int) -> list[dict]:
        return [
            wire(f"m{n}", "total_kwh", now - timedelta(minutes=m), 100.0 - m, "kilowatt-hours")
            for m in range(first, last, -1)
            for n in range(5)  # five points: more than one rollup part
        ]

    for first in (60, 50):  # points registered, then cached: the usual upload follows
        db.run(_upload(db, site_id, minutes(first, first - 10)))
    db.run(flush_rollups(db.sessions))
    points = db.run(_site_points(db, site_id))

    batch_id = uuid.uuid4().hex
    outcome, statements = db.run(_logged_upload(db, site_id, batch_id, minutes(40, 30)))
    assert outcome.new == 50
    assert not [s for s in statements if s.startswith("INSERT INTO rollup_dirty")]
    assert any(s.startswith("WITH claim AS") for s in statements)
    queued = db.run(_queued(db, points))
    assert sorted(pid for spans, _ in queued for _, _, pids in spans for pid in pids) == sorted(points)
    assert len(queued) == len({pid % ROLLUP_PARTS for pid in points})  # a row per rollup part
    assert all(carries for _, carries in queued) == (native_rows is not None)

    replay, _ = db.run(_logged_upload(db, site_id, batch_id, minutes(40, 30)))
    assert replay.replayed and db.run(_queued(db, points)) == queued

    # a new batch id holding stored keys: stored again by INSERT … ON CONFLICT, its new rows queued, none carried
    overlap, _ = db.run(_logged_upload(db, site_id, uuid.uuid4().hex, minutes(35, 25)))
    assert (overlap.new, overlap.duplicates) == (25, 25)
    later = db.run(_queued(db, points))[len(queued) :]
    assert later and not any(carries for _, carries in later)
    db.run(flush_rollups(db.sessions))
    assert db.run(_queued(db, points)) == []
