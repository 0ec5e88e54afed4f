"""An instantaneous point's hours and days in the readings query are the energy query's buckets."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from api.services.access import Scope
from api.services.readings import energy, point_readings, readings
from db.central.energy_query import energy_page, energy_point
from db.central.ingest.batch import insert_rows
from db.central.models import DataPoint
from db.central.rollups.queue import flush_rollups, record_dirty
from db.clock import utcnow
from db.engine import session_scope
from tests.support.energy import Db, make_point

ZONE = "Asia/Kolkata"  # +05:30: a local hour starts at half past a UTC hour
ADMIN = Scope(name="admin", role="admin")


async def _store(db: Db, point: int, rows: list[tuple]) -> int:
    """Store the rows and queue them as an upload does; the point's meter id."""
    async with session_scope(db.sessions) as session:
        await insert_rows(session, [(point, ts, value, q) for ts, value, q in rows])
        await record_dirty(session, 0, {point: (rows[0][0], rows[-1][0])})
        return (await session.get(DataPoint, point)).meter_id


async def _both(db: Db, meter_id: int, start, end, resolution: str) -> tuple[list, list]:
    """The readings page and the energy page of power_kw over [start, end)."""
    async with session_scope(db.sessions) as session:
        rows, _ = await readings(session, meter_id, "power_kw", start, end, resolution, scope=ADMIN)
        buckets, _, _ = await energy(session, meter_id, "power_kw", start, end, resolution, scope=ADMIN)
    return rows, buckets


def test_hours_are_local_and_bad_readings_count_but_do_not_average(db):
    zone = ZoneInfo(ZONE)
    local = (utcnow() - timedelta(days=3)).astimezone(zone).replace(minute=0, second=0, microsecond=0)
    hour = local.astimezone(ZoneInfo("UTC"))
    # one local hour across two UTC hours, with a bad spike; then a reading in the next local hour
    rows = [(hour + timedelta(minutes=m), v, q) for m, v, q in [(5, 10.0, 0), (20, 20.0, 0), (25, 1000.0, 2)]]
    rows += [(hour + timedelta(minutes=m), v, 0) for m, v in [(35, 30.0), (50, 40.0), (65, 50.0)]]
    point = db.run(make_point(db, ZONE, False, unit="kilowatts", name="power_kw"))
    meter_id = db.run(_store(db, point, rows))
    start, end = hour - timedelta(hours=1), hour + timedelta(hours=3)
    for folded in (False, True):  # raw readings, then the stored summary
        if folded:
            db.run(flush_rollups(db.sessions))
        page, buckets = db.run(_both(db, meter_id, start, end, "hour"))
        assert [(r.ts, r.value, r.min, r.max, r.count) for r in page] == [
            (hour, 25.0, 10.0, 40.0, 5),
            (hour + timedelta(hours=1), 50.0, 50.0, 50.0, 1),
        ]
        assert page[0].ts.astimezone(zone).minute == 0 and page[0].quality == 1  # flagged by the bad one
        assert all(r.consumption is None and r.first_value is None for r in page)
        for resolution in ("hour", "day"):
            page, buckets = db.run(_both(db, meter_id, start, end, resolution))
            assert sum(r.count for r in page) == len(rows)
            assert [(r.ts, r.value, r.min, r.max, r.count, r.quality) for r in page] == [
                (b.start, b.mean, b.min, b.max, b.count, b.quality) for b in buckets
            ]


def test_minutes_count_bad_readings_but_average_only_the_usable_ones(db):
    start = (utcnow() - timedelta(days=2)).replace(second=0, microsecond=0)
    rows = [
        (start + timedelta(seconds=s), v, q) for s, v, q in [(5, 10.0, 0), (20, 1000.0, 2), (40, 20.0, 1)]
    ]
    rows += [(start + timedelta(minutes=1, seconds=s), v, 2) for s, v in [(10, 7.0), (30, 9.0)]]  # only bad
    rows += [(start + timedelta(minutes=2, seconds=10), 30.0, 0)]
    point = db.run(make_point(db, ZONE, False, unit="kilowatts", name="power_kw"))
    meter_id = db.run(_store(db, point, rows))
    page, _ = db.run(_both(db, meter_id, start, start + timedelta(minutes=3), "minute"))
    assert [(r.ts, r.value, r.min, r.max, r.count, r.quality) for r in page] == [
        (start, 15.0, 10.0, 20.0, 3, 1),  # the bad spike counted and flagging, not averaged
        (start + timedelta(minutes=1), None, None, None, 2, 2),  # nothing usable: no figures, bad
        (start + timedelta(minutes=2), 30.0, 30.0, 30.0, 1, 0),
    ]


def expected(rows: list[tuple], resolution: str) -> list[tuple]:
    """(bucket, mean, min, max, count) per local hour or day: figures of the usable readings, count of all."""
    zone = ZoneInfo(ZONE)
    buckets: dict = {}
    for ts, value, quality in sorted(rows):
        local = ts.astimezone(zone).replace(minute=0, second=0, microsecond=0)
        key = local if resolution == "hour" else local.replace(hour=0)  # Kolkata has no DST
        buckets.setdefault(key, []).append((value, quality))
    out = []
    for key in sorted(buckets):
        good = [v for v, q in buckets[key] if q < 2]
        figures = (sum(good) / len(good), min(good), max(good)) if good else (None, None, None)
        out.append((key, *figures, len(buckets[key])))
    return out


async def _pages(db: Db, point: int, start, end, resolution: str, first: int) -> list:
    """Every readings page of `first` rows, with the energy query's qualities of one page."""
    out, after = [], None
    while True:
        async with session_scope(db.sessions) as session:
            rows, after = await point_readings(session, point, False, start, end, resolution, first, after)
        out += rows
        if after is None:
            break
    async with session_scope(db.sessions) as session:
        buckets, _ = await energy_page(session, await energy_point(session, point), start, end, resolution)
    assert [r.quality for r in out] == [b.quality for b in buckets]
    return out


def assert_same(got: list, want: list) -> None:
    assert [(g.ts, g.min, g.max, g.count) for g in got] == [(w[0], *w[2:]) for w in want]
    for g, w in zip(got, want, strict=True):
        assert g.value == pytest.approx(w[1], rel=1e-9)


@pytest.mark.parametrize("resolution", ["hour", "day"])
def test_pages_include_readings_the_worker_has_not_folded(db, resolution):
    start = (utcnow() - timedelta(days=6)).replace(minute=0, second=0, microsecond=0)
    rows = [(start + timedelta(minutes=7 * n), 20.0 + (n % 13), (0, 0, 1, 2)[n % 4]) for n in range(600)]
    point = db.run(make_point(db, ZONE, False, unit="kilowatts", name="power_kw"))
    folded, newer = rows[:300], rows[450:]
    late = rows[300:450:2]  # a backlog inside hours the worker has folded, and readings after them
    db.run(_store(db, point, folded))
    db.run(flush_rollups(db.sessions))
    db.run(_store(db, point, newer))
    db.run(_store(db, point, late))
    stored = folded + newer + late
    lo, hi = start - timedelta(hours=5), start + timedelta(days=4)
    inner = (start + timedelta(hours=20, minutes=10), start + timedelta(hours=50))  # starts inside a bucket
    step = timedelta(hours=1) if resolution == "hour" else timedelta(days=1)
    want = [b for b in expected(stored, resolution) if inner[0] - step < b[0] < inner[1]]
    for state in ("queued", "folded"):  # the stored summary plus raw readings, then the summary alone
        if state == "folded":
            db.run(flush_rollups(db.sessions))
        for first in (3, 1000):  # pages that end in the folded part, the raw part, or across both
            assert_same(db.run(_pages(db, point, lo, hi, resolution, first)), expected(stored, resolution))
        assert_same(db.run(_pages(db, point, *inner, resolution, 1000)), want)
