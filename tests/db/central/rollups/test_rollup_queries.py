"""Hourly and daily reading pages stay exact while the rollup worker has uploads left to fold."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from db.central.rollups.queries import bucket_quality
from db.central.rollups.queue import flush_rollups
from db.central.storage.readings_query import query_readings
from db.engine import session_scope
from tests.db.central.rollups.test_rollup_append import upload
from tests.support.energy import Db, make_point

ZONE = "Asia/Kolkata"  # local midnight at 18:30 UTC: days are not whole UTC hours


@pytest.fixture(scope="module")
def db(own_central_pg_url):
    """A database of this module's own: no API worker folds what these tests leave queued."""
    database = Db(own_central_pg_url)
    yield database
    database.close()


def expected(rows: list[tuple], resolution: str) -> list[tuple]:
    """(bucket, mean, min, max, count, quality) per bucket from the raw rows."""
    zone = ZoneInfo(ZONE)
    buckets: dict[datetime, list[tuple]] = {}
    for ts, value, quality in sorted(rows):
        if resolution == "hour":
            key = ts.replace(minute=0, second=0, microsecond=0)
        else:
            key = ts.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
        buckets.setdefault(key, []).append((value, quality))
    out = []
    for key in sorted(buckets):
        values = [v for v, _ in buckets[key]]
        good = sum(q == 0 for _, q in buckets[key])
        usable = any(q < 2 for _, q in buckets[key])
        quality = bucket_quality(len(values), good, usable)
        out.append((key, sum(values) / len(values), min(values), max(values), len(values), quality))
    return out


async def pages(db: Db, point: int, start: datetime, end: datetime, resolution: str, first: int) -> list:
    """Every page of the query, as tuples."""
    out, cursor = [], None
    while True:
        async with session_scope(db.sessions) as session:
            rows, cursor = await query_readings(session, point, start, end, resolution, first, cursor)
        out += [(r.ts, r.value, r.min, r.max, r.count, r.quality) for r in rows]
        if cursor is None:
            return out


def assert_same(got: list, want: list) -> None:
    assert [g[0] for g in got] == [w[0] for w in want]
    for g, w in zip(got, want, strict=True):
        assert g[2:] == w[2:], (g, w)
        assert abs(g[1] - w[1]) <= 1e-9 * max(1.0, abs(w[1])), (g, w)


@pytest.mark.parametrize("resolution", ["hour", "day"])
def test_pages_include_readings_the_worker_has_not_folded(db, resolution):
    start = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    rows = [(start + timedelta(minutes=7 * n), 20.0 + (n % 13), (0, 0, 1, 2)[n % 4]) for n in range(600)]
    point = db.run(make_point(db, timezone=ZONE, cumulative=False, unit="kilowatts", name="power_kw"))
    folded, newer = rows[:300], rows[450:]
    late = rows[300:450:2]  # a backlog inside hours the worker has folded, and readings after them
    db.run(upload(db, point, folded))
    db.run(flush_rollups(db.engine))
    db.run(upload(db, point, newer))
    db.run(upload(db, point, late))
    stored = folded + newer + late
    lo, hi = start - timedelta(hours=5), start + timedelta(days=4)
    for first in (3, 1000):  # pages that end in the folded part, the raw part, or across both
        assert_same(db.run(pages(db, point, lo, hi, resolution, first)), expected(stored, resolution))
    inner = (start + timedelta(hours=20, minutes=10), start + timedelta(hours=50))  # starts inside a bucket
    want = [
        b for b in expected(stored, resolution) if b[0] < inner[1] and b[0] > inner[0] - timedelta(days=1)
    ]
    if resolution == "hour":
        want = [b for b in want if b[0] > inner[0] - timedelta(hours=1)]
    assert_same(db.run(pages(db, point, *inner, resolution, 1000)), want)
    db.run(flush_rollups(db.engine))  # folded: the same answers from the rollups alone
    assert_same(db.run(pages(db, point, lo, hi, resolution, 7)), expected(stored, resolution))
    assert_same(db.run(pages(db, point, *inner, resolution, 1000)), want)
