"""Reports' data access on both dialects: counter resets from raw readings."""

from datetime import datetime, timedelta

from db.central.ingest.batch import insert_rows
from db.central.reports import counter_resets
from db.clock import clock
from db.energy import local_day, local_day_bounds
from db.engine import session_scope
from tests.support.energy import Db, make_point

ZONE = "Asia/Kolkata"  # +05:30: a local hour is not a UTC hour
TEN = timedelta(minutes=10)


def local_hour(days_ago: int, hour: int) -> datetime:
    """A local hour's start in ZONE, days_ago local days before today."""
    day = local_day(clock().now(), ZONE) - timedelta(days=days_ago)
    return local_day_bounds(day, ZONE)[0] + timedelta(hours=hour)


async def resets(db: Db, point: int, rollover: float | None, lo: datetime, hi: datetime) -> int:
    """The point's counter resets over [lo, hi)."""
    async with session_scope(db.sessions) as session:
        return (await counter_resets(session, {point: rollover}, lo, hi)).get(point, 0)


def test_resets_and_rollovers_of_the_intervals_ending_in_the_range(db):
    lo = local_hour(2, 9)
    hi = lo + timedelta(hours=2)
    point = db.run(make_point(db, ZONE, rollover=10_000.0))
    readings = [
        (lo - 2 * TEN, 9_980.0, 0),
        (lo - TEN, 9_990.0, 0),
        (lo, 9_995.0, 0),  # the interval ending at lo lies before the range
        (lo + TEN, 2.0, 0),  # a rollover: 7 kWh
        (lo + 2 * TEN, 5.0, 0),
        (lo + 3 * TEN, 4.99, 0),  # jitter: not a reset
        (lo + 4 * TEN, 0.5, 2),  # a bad reading does not count
        (lo + 5 * TEN, 6.0, 0),
        (lo + 6 * TEN, 1.0, 0),  # a reset
        (lo + 7 * TEN, 2.0, 0),
        (hi, 0.5, 0),  # a reset ending at hi: inside (lo, hi]
        (hi + TEN, 0.1, 0),  # a reset after the range
    ]

    async def store():
        async with session_scope(db.sessions) as session:
            await insert_rows(session, [(point, ts, value, q) for ts, value, q in readings])

    db.run(store())
    assert db.run(resets(db, point, 10_000.0, lo, hi)) == 3
    assert db.run(resets(db, point, None, lo, hi)) == 3  # without a rollover limit the wrap is a reset
    assert db.run(resets(db, point, 10_000.0, lo + TEN, hi)) == 2  # its interval ends at the range's start
    assert db.run(resets(db, point, 10_000.0, lo - TEN, lo + 5 * TEN)) == 1
    assert db.run(resets(db, point, 10_000.0, hi, hi + timedelta(hours=1))) == 1
    assert db.run(resets(db, point, 10_000.0, lo - timedelta(days=1), lo - 2 * TEN)) == 0
