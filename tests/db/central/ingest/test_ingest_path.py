"""Through db/central/ingest/batch.py: discovered points get their kind from the unit and rollups follow every upload."""

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from db.central.ingest.batch import ingest_batch
from db.central.models import DataPoint, Meter
from db.central.rollups.models import HourlyRollup
from db.central.rollups.queue import flush_rollups
from db.central.rollups.refresh import today_energy_by_site
from db.central.storage.readings_query import query_readings
from db.engine import session_scope
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
        hours = (await session.scalars(select(HourlyRollup).where(HourlyRollup.point_id == point_id))).all()
        page, _ = await query_readings(
            session, point_id, now - timedelta(hours=3), now + timedelta(hours=1), "hour", 100
        )
        return points, energy[site_id], hours, page


def test_uploads_keep_rollups_and_today_energy_current(db, dated_clock):
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

    points, today, hours, page = db.run(_state(db, site_id, now))
    assert points == {"total_kwh": True, "power_kw": False}  # inferred from the BACnet units
    assert sum(h.consumption or 0 for h in hours) == pytest.approx(0.5 * 120)
    assert sum(h.count for h in hours) == 121
    midnight = now.astimezone(ZoneInfo("Europe/Berlin")).replace(hour=0, minute=0)
    # each reading after local midnight closes one 0.5 kWh interval, except the very first reading
    closing = [ts for ts, _ in energy[1:] if ts > midnight]
    assert today == pytest.approx(0.5 * len(closing))
    assert [row.count for row in page] == [h.count for h in sorted(hours, key=lambda h: h.bucket) if h.count]
