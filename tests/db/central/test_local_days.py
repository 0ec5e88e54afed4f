"""Local days on daylight-saving change days (Berlin, New York) and off-hour zones; today's energy per site."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from db.central.energy_query import energy_pages, energy_points
from db.central.energy_totals import today_energy_by_site
from db.clock import FixedClock, use_clock
from db.energy import local_day, local_day_bounds
from db.engine import session_scope
from tests.support.energy import ingest, make_point

# Calendar cases: fixed days, read under an injected clock after them, so they hold on any date.
CHANGE_DAYS = [
    ("Europe/Berlin", date(2026, 3, 29), 23),
    ("Europe/Berlin", date(2026, 10, 25), 25),
    ("America/New_York", date(2026, 3, 8), 23),
    ("America/New_York", date(2026, 11, 1), 25),
    ("Asia/Kolkata", date(2026, 3, 29), 24),  # midnight at :30 UTC
]


def quarter_hours(start: datetime, end: datetime, first_value: float = 1000.0) -> list[tuple]:
    """A register that counts 1 kWh every 15 minutes from start to end inclusive."""
    rows, ts, value = [], start, first_value
    while ts <= end:
        rows.append((ts, value, 0))
        ts, value = ts + timedelta(minutes=15), value + 1.0
    return rows


@pytest.mark.parametrize(("zone", "day", "hours"), CHANGE_DAYS)
def test_change_day_has_its_true_length(db, zone, day, hours):
    start, end = local_day_bounds(day, zone)
    point = db.run(make_point(db, timezone=zone))
    rows = quarter_hours(start - timedelta(hours=6), end + timedelta(hours=6))
    half = len(rows) // 2
    db.run(ingest(db, point, rows[half:], fold=True))  # the later half first: the earlier arrives late
    db.run(ingest(db, point, rows[:half], fold=True))

    async def days():  # the energy query reads the clock: one a day after the data, whatever today is
        with use_clock(FixedClock(end + timedelta(days=2))):
            return await read_days()

    async def read_days():
        async with session_scope(db.sessions) as session:
            facts = await energy_points(session, [point])
            before, _ = local_day_bounds(day - timedelta(days=1), zone)
            _, after = local_day_bounds(day + timedelta(days=1), zone)
            return (await energy_pages(session, list(facts.values()), before, after, "day"))[point]

    by_day = {local_day(b.start, zone): b for b in db.run(days())}
    bucket = by_day[day]
    assert (bucket.start, bucket.end) == (start, end)
    assert bucket.count == hours * 4
    assert bucket.consumption == pytest.approx(hours * 4)  # the register rose 1 kWh every 15 minutes
    assert bucket.first_value == rows[24][1] and bucket.last_value == rows[24 + hours * 4 - 1][1]
    assert {d: b.count for d, b in by_day.items()} == {
        day - timedelta(days=1): 24,
        day: hours * 4,
        day + timedelta(days=1): 24 + 1,
    }


def local_midnight(now: datetime, zone: str) -> datetime:
    """The start of now's local day in zone, in UTC."""
    return datetime.combine(now.astimezone(ZoneInfo(zone)).date(), time(), ZoneInfo(zone)).astimezone(UTC)


def test_today_energy_since_local_midnight(db, dated_clock):
    now = dated_clock.now().replace(second=0, microsecond=0)
    now -= timedelta(minutes=now.minute % 15)
    points = {}
    for zone in ("Europe/Berlin", "America/New_York"):
        points[zone] = db.run(make_point(db, timezone=zone))
        db.run(ingest(db, points[zone], quarter_hours(now - timedelta(days=1), now)))
    power = db.run(make_point(db, cumulative=False, unit="kilowatts", name="power_kw"))
    db.run(ingest(db, power, quarter_hours(now - timedelta(hours=3), now)))

    async def _sites():
        async with session_scope(db.sessions) as session:
            from db.central.models import DataPoint, Meter

            ids = {}
            for zone, point in points.items():
                meter_id = (await session.get(DataPoint, point)).meter_id
                ids[zone] = (await session.get(Meter, meter_id)).site_id
            energy = await today_energy_by_site(session, ids.values(), now)
            return ids, energy

    ids, energy = db.run(_sites())
    for zone in points:  # 1 kWh per quarter hour since the zone's midnight (23 or 25 h days included)
        quarters = (now - local_midnight(now, zone)) / timedelta(minutes=15)
        assert energy[ids[zone]] == pytest.approx(quarters), zone
