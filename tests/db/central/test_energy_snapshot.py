"""Summed runs of stored rows (db/central/energy_snapshot.py) and set-based site totals equal the plain paths.

Months summed from stored local days must equal months assembled from the stored quarters and the raw
reference, across 23 h and 25 h days; a site's totals read in one statement must equal the sum of its
meters read one by one (gaps, a late reading the worker has not folded, a configured interval, Wh).
"""

import random
from datetime import timedelta

import pytest
from sqlalchemy import text

from db.central.energy_parts import buckets_from_parts
from db.central.energy_query import energy_page, energy_pages, energy_point, energy_points, meter_interval
from db.central.energy_read import summary_parts, summary_state
from db.central.energy_snapshot import summary_snapshots
from db.central.energy_totals import site_totals
from db.central.models import DataPoint, Meter
from db.central.rollups.queue import flush_rollups
from db.clock import FixedClock, clock, use_clock
from db.energy import GAP_FACTOR, Sample, bucket_bounds, local_day, local_day_bounds, reference_buckets
from db.energy.units import kwh_factor
from db.engine import session_scope
from tests.db.central.test_energy_query import dst_start, give_tariff, set_interval
from tests.db.central.test_energy_summary import upload
from tests.db.energy.test_consumption_rules import assert_same
from tests.support.energy import Db, make_point

STEP = timedelta(minutes=10)


@pytest.fixture(scope="module")
def db(own_central_pg_url):
    """A migrated PostgreSQL database of the module's own (the summary is PostgreSQL's)."""
    database = Db(own_central_pg_url)
    yield database
    database.close()


def register(start, days: int, seed: int, scale: float = 1.0) -> list[Sample]:
    """A register read every 10 minutes with a reset, a flagged and a bad reading and a two-hour gap."""
    rng = random.Random(seed)
    rows, value, ts = [], 500.0 * scale, start
    for n in range(days * 144):
        ts = start + n * STEP
        if n % 1000 == 600:
            value = 0.25 * scale  # counter reset
        value += rng.uniform(0, 4) * scale
        if 3000 <= n < 3012:
            continue  # the meter was away two hours: longer than 3 x its interval
        quality = 2 if n % 997 == 5 else 1 if n % 1499 == 9 else 0
        rows.append(Sample(ts, round(value, 6), quality))
    return rows


def load(db: Db, point: int, rows: list[Sample]) -> None:
    """Upload in batches and let the worker fold them into the summary."""
    for n in range(0, len(rows), 2000):
        db.run(upload(db, point, rows[n : n + 2000]))
    db.run(flush_rollups(db.sessions))


async def from_quarters(db: Db, point: int, lo, hi, resolution: str):
    """The buckets assembled from the stored quarters alone (no stored day, nothing summed) and raw edges."""
    async with session_scope(db.sessions) as session:
        facts = await energy_point(session, point)
        chunk = bucket_bounds(lo, hi, resolution, facts.timezone)
        interval = await meter_interval(session, facts, lo)
        state, _ = await summary_state(session, point, lo)
        assert state is not None
        gap, now = GAP_FACTOR * interval.total_seconds(), clock().now()
        parts = await summary_parts(session, facts, state, chunk[0][0], chunk[-1][1], False, gap, now)
    return buckets_from_parts(parts, chunk, cumulative=facts.cumulative, now=now)


async def page(db: Db, point: int, lo, hi, resolution: str, summary: bool = True):
    """The energy query's answer (one page)."""
    async with session_scope(db.sessions) as session:
        facts = await energy_point(session, point)
        buckets, after = await energy_page(session, facts, lo, hi, resolution, 1000, summary=summary)
    assert after is None
    return buckets


async def stored_rows(db: Db, point: int, lo, hi, resolution: str) -> int:
    """How many stored rows the page's snapshot brings (summed runs count once)."""
    async with session_scope(db.sessions) as session:
        facts = await energy_point(session, point)
        chunk = bucket_bounds(lo, hi, resolution, facts.timezone)
        snapshots = await summary_snapshots(session, [facts], chunk, resolution, lo, clock().now())
    return len(snapshots[point].stored)


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
@pytest.mark.parametrize("hours", [23, 25])
def test_months_from_summed_days_equal_months_from_quarters(db, zone, hours):
    day = dst_start(zone, hours)
    start = (day - timedelta(days=40)).replace(minute=3, second=0, microsecond=0)
    rows = register(start, 52, seed=hours)
    point = db.run(make_point(db, timezone=zone))
    load(db, point, rows)
    lo, hi = start - timedelta(days=3), start + timedelta(days=55)
    for now in (rows[-1].ts + timedelta(days=30), day + timedelta(hours=7)):  # over; DST day running
        with use_clock(FixedClock(now)):
            for resolution in ("month", "day"):
                got = db.run(page(db, point, lo, hi, resolution))
                quarters = db.run(from_quarters(db, point, lo, hi, resolution))
                raw = db.run(page(db, point, lo, hi, resolution, summary=False))
                want = reference_buckets(
                    rows,
                    bucket_bounds(lo, hi, resolution, zone),
                    cumulative=True,
                    interval=STEP,
                    now=now,
                    timezone=zone,
                )
                assert_same(got, quarters)
                assert_same(got, raw)
                assert_same(got, want)
            dst_day = [b for b in got if b.start == day]
            assert dst_day and dst_day[0].end - dst_day[0].start == timedelta(hours=hours)
    with use_clock(FixedClock(rows[-1].ts + timedelta(days=30))):
        # months come as a few summed runs (split by the gap's day), not as ~50 days and their quarters
        assert db.run(stored_rows(db, point, lo, hi, "month")) <= 8


def test_a_priced_month_is_not_summed_and_still_equal(db):
    zone = "Europe/Berlin"
    day = dst_start(zone, 25)
    start = (day - timedelta(days=20)).replace(minute=0, second=0, microsecond=0)
    rows = register(start, 30, seed=3)
    point = db.run(make_point(db, timezone=zone))
    db.run(give_tariff(db, point))
    load(db, point, rows)
    lo, hi = start, start + timedelta(days=31)
    with use_clock(FixedClock(rows[-1].ts + timedelta(days=3))):
        got = db.run(page(db, point, lo, hi, "month"))
        raw = db.run(page(db, point, lo, hi, "month", summary=False))
        assert db.run(stored_rows(db, point, lo, hi, "month")) > 20  # days with their hours, to be priced
    assert_same(got, raw)
    assert all(b.cost is not None for b in got)


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
@pytest.mark.parametrize("hours", [23, 25])
def test_site_totals_equal_the_sum_of_their_meters(db, zone, hours):
    day = dst_start(zone, hours)
    start = (day - timedelta(days=12)).replace(minute=0, second=0, microsecond=0)
    first = db.run(make_point(db, timezone=zone))
    site_id = db.run(site_of(db, first))
    wh = db.run(make_point(db, site_id=site_id, unit="Wh"))
    own = db.run(make_point(db, site_id=site_id))
    late = db.run(make_point(db, site_id=site_id))
    db.run(set_interval(db, own, STEP.total_seconds()))
    histories = {
        first: register(start, 20, 1),
        wh: register(start, 20, 2, 1000.0),
        own: register(start, 20, 3),
    }
    histories[late] = register(start, 20, 4)
    for point, rows in histories.items():
        load(db, point, rows)
    db.run(upload(db, late, [Sample(histories[late][500].ts + timedelta(minutes=5), 1e6, 0)]))  # not folded
    first_day, last_day = local_day(start, zone), local_day(start + timedelta(days=21), zone)
    for now in (start + timedelta(days=25), day + timedelta(hours=5)):
        with use_clock(FixedClock(now)):
            for resolution in ("day", "month"):
                totals = db.run(totals_of(db, site_id, first_day, last_day, resolution))
                meters = db.run(meters_of(db, list(histories), first_day, last_day, zone, resolution))
                assert [t.label for t in totals] == sorted(meters)
                for total in totals:
                    kwh, quality, count = meters[total.label]
                    assert (total.kwh, total.quality, total.points) == (kwh, quality, count)
                if resolution == "day":  # the DST day is a total of its own 23 or 25 hours
                    assert local_day(day, zone) in meters


async def site_of(db: Db, point: int) -> int:
    """The site of the point's meter."""
    async with session_scope(db.sessions) as session:
        return (await session.get(Meter, (await session.get(DataPoint, point)).meter_id)).site_id


async def totals_of(db: Db, site_id: int, first_day, last_day, resolution: str):
    """energy_totals.site_totals of one site."""
    async with session_scope(db.sessions) as session:
        return (await site_totals(session, [site_id], first_day, last_day, resolution))[site_id]


async def meters_of(db: Db, points: list[int], first_day, last_day, zone: str, resolution: str) -> dict:
    """Per label: the meters' kWh added in point order, their worst quality and how many buckets, each
    meter read alone through energy_page (and energy_pages giving the same buckets)."""
    lo, hi = local_day_bounds(first_day, zone)[0], local_day_bounds(last_day, zone)[1]
    out: dict = {}
    async with session_scope(db.sessions) as session:
        facts = await energy_points(session, points)
        together = await energy_pages(session, [facts[p] for p in points], lo, hi, resolution)
        for point in points:
            buckets, after = await energy_page(session, facts[point], lo, hi, resolution, 10_000)
            assert after is None
            assert_same(together[point], buckets)
            for b in buckets:
                if b.consumption is None:
                    continue
                kwh, quality, count = out.get(local_day(b.start, zone), (0.0, 0, 0))
                kwh += b.consumption * kwh_factor(facts[point].unit)
                out[local_day(b.start, zone)] = (kwh, max(quality, b.quality), count + 1)
    return out


async def page_in_open_transaction(db: Db, point: int, lo, hi, resolution: str):
    """The page read inside a transaction the caller opened (planned as usual), and the connection's setting
    after a page read outside one (its generic plan's setting must not outlive the read)."""
    async with session_scope(db.sessions) as session:
        facts = await energy_point(session, point)
        await energy_page(session, facts, lo, hi, resolution, 1000)
        after_own = await session.scalar(text("SHOW plan_cache_mode"))  # opens the caller's transaction
        buckets, _ = await energy_page(session, facts, lo, hi, resolution, 1000)
        inside = await session.scalar(text("SHOW plan_cache_mode"))
    return buckets, after_own, inside


def test_a_page_read_on_its_generic_plan_equals_the_page_planned_in_the_callers_transaction(db):
    zone = "Europe/Berlin"
    start = (dst_start(zone, 23) - timedelta(days=10)).replace(minute=0, second=0, microsecond=0)
    rows = register(start, 20, seed=5)
    point = db.run(make_point(db, timezone=zone))
    load(db, point, rows)
    lo, hi = start - timedelta(days=1), start + timedelta(days=21)
    with use_clock(FixedClock(rows[-1].ts + timedelta(days=2))):
        for resolution, end in (("quarter_hour", lo + timedelta(days=5)), ("day", hi), ("month", hi)):
            own = db.run(page(db, point, lo, end, resolution))
            inside, after_own, during = db.run(page_in_open_transaction(db, point, lo, end, resolution))
            assert_same(own, inside)
            assert (after_own, during) == ("auto", "auto")
