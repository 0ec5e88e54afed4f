"""Energy buckets read through the database equal the reference, in every zone, page by page."""

import random
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from db.central.energy_query import INTERVAL_KEY, energy_page, energy_pages, energy_point
from db.central.energy_totals import fleet_totals, site_totals, today_energy_by_site
from db.central.fleet import power_today
from db.central.ingest.batch import insert_rows
from db.central.models import DataPoint, Meter, Site
from db.central.rollups.queue import flush_rollups, record_dirty
from db.central.tariffs import set_tariff
from db.clock import FixedClock, clock, use_clock
from db.energy import Sample, bucket_bounds, local_day, local_day_bounds, reference_buckets
from db.engine import session_scope
from tests.db.energy.test_consumption_rules import TARIFF, assert_same, history, steps
from tests.support.energy import Db, ingest, make_point

ROLLOVER = 10_000.0
MINUTE = timedelta(minutes=1)


def dst_start(zone: str, hours: int):
    """Local midnight of the next day after the clock's today that lasts `hours` hours (23 or 25)."""
    day = clock().now().date()
    for _ in range(400):
        start, end = local_day_bounds(day, zone)
        if end - start == timedelta(hours=hours):
            return start
        day += timedelta(days=1)
    raise AssertionError(f"no {hours} h day in {zone}")


async def set_interval(db: Db, point_id: int, seconds: float) -> None:
    """Give the point's meter its own interval (meters.config)."""
    async with session_scope(db.sessions) as session:
        meter_id = (await session.get(DataPoint, point_id)).meter_id
        meter = await session.get(Meter, meter_id)
        await session.execute(
            update(Meter).where(Meter.id == meter_id).values(config={**meter.config, INTERVAL_KEY: seconds})
        )


async def give_tariff(db: Db, point_id: int) -> None:
    """Give the point's site the test tariff."""
    async with session_scope(db.sessions) as session:
        meter = await session.get(Meter, (await session.get(DataPoint, point_id)).meter_id)
        await set_tariff(session, meter.site_id, TARIFF)


async def all_pages(db: Db, point_id: int, lo, hi, resolution: str, first: int) -> list:
    """Every bucket, read page by page."""
    out, after = [], None
    async with session_scope(db.sessions) as session:
        facts = await energy_point(session, point_id)
        while True:
            page, after = await energy_page(session, facts, lo, hi, resolution, first, after)
            out += page
            if after is None:
                return out


def arrive(db: Db, point: int, rows: list[Sample], seed: int) -> None:
    """Upload in shuffled batches with a replayed one (duplicates are ignored, as on the ingest path)."""
    rng = random.Random(seed)
    shuffled = rows[:]
    rng.shuffle(shuffled)
    parts = [shuffled[i::3] for i in range(3)] + [shuffled[: len(shuffled) // 2]]
    for part in parts:
        if part:
            db.run(ingest(db, point, [(s.ts, s.value, s.quality) for s in part]))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    drawn=st.lists(steps, min_size=1, max_size=60),
    value=st.floats(0, ROLLOVER - 1, allow_nan=False),
    seed=st.integers(0, 10_000),
    zone=st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC"]),
    resolution=st.sampled_from(["quarter_hour", "hour", "day", "month"]),
    wraps=st.booleans(),
    cumulative=st.booleans(),
    first=st.sampled_from([1, 3, 1000]),
    priced=st.booleans(),
)
def test_api_buckets_equal_the_reference(
    db, drawn, value, seed, zone, resolution, wraps, cumulative, first, priced
):
    rollover = ROLLOVER if wraps else None
    dst_zone = zone if zone in ("Europe/Berlin", "America/New_York") else "Europe/Berlin"
    start = dst_start(dst_zone, 23) - timedelta(hours=2)
    samples = history(drawn, start, value, rollover)
    point = db.run(make_point(db, timezone=zone, rollover=rollover, cumulative=cumulative))
    db.run(set_interval(db, point, 60.0))
    if priced:
        db.run(give_tariff(db, point))
    arrive(db, point, samples, seed)
    lo, hi = start - timedelta(days=1), start + timedelta(days=3)
    now = samples[len(samples) // 2].ts  # some buckets are still running, later ones have not begun
    with use_clock(FixedClock(now)):
        got = db.run(all_pages(db, point, lo, hi, resolution, first))
        want = reference_buckets(
            samples,
            bucket_bounds(lo, hi, resolution, zone),
            cumulative=cumulative,
            interval=MINUTE,
            now=clock().now(),
            rollover=rollover,
            price=TARIFF.pricer(zone) if priced and cumulative else None,
            timezone=zone,
        )
    assert_same(got, want)


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
@pytest.mark.parametrize("hours", [23, 25])
def test_dst_days_and_their_hours_through_the_database(db, zone, hours):
    day_start = dst_start(zone, hours)
    point = db.run(make_point(db, timezone=zone))
    samples = [Sample(day_start - MINUTE + n * MINUTE, 1000.0 + n) for n in range(hours * 60 + 3)]
    db.run(ingest(db, point, [(s.ts, s.value, s.quality) for s in samples]))
    with use_clock(FixedClock(day_start + timedelta(days=2))):
        [before, day, after] = db.run(
            all_pages(db, point, day_start - MINUTE, day_start + timedelta(hours=hours, minutes=1), "day", 1)
        )
        hourly = db.run(all_pages(db, point, day_start, day_start + timedelta(hours=hours), "hour", 7))
    assert day.end - day.start == timedelta(hours=hours) and day.consumption == pytest.approx(hours * 60)
    assert (before.consumption, after.consumption) == (pytest.approx(1.0), pytest.approx(1.0))
    assert len(hourly) == hours and all(h.consumption == pytest.approx(60.0) for h in hourly)
    assert day.completeness == 1.0 and day.quality == 0


def test_fleet_totals_are_the_sum_of_the_sites(db):
    async def make_fleet():
        ids = []
        for zone in ("Europe/Berlin", "America/New_York", "Asia/Kolkata"):
            first = await make_point(db, timezone=zone)
            async with session_scope(db.sessions) as session:
                meter = await session.get(Meter, (await session.get(DataPoint, first)).meter_id)
                site_id = meter.site_id
            second = await make_point(db, site_id=site_id, unit="Wh")
            ids.append((site_id, zone, first, second))
        return ids

    fleet = db.run(make_fleet())
    base = clock().now().replace(second=0, microsecond=0) - timedelta(days=3)
    rng = random.Random(7)
    expected_by_site = {}
    for site_id, _zone, kwh, wh in fleet:
        for point, scale in ((kwh, 1.0), (wh, 1000.0)):
            value, rows = 0.0, []
            for n in range(0, 3 * 24 * 60, 5):
                value += rng.uniform(0, 2) * scale
                rows.append((base + n * MINUTE, value, 0))
            db.run(ingest(db, point, rows))
        expected_by_site[site_id] = None
    site_ids = [f[0] for f in fleet]
    first_day = local_day(base, "UTC") + timedelta(days=1)
    last_day = first_day + timedelta(days=1)

    async def totals():
        async with session_scope(db.sessions) as session:
            return await site_totals(session, site_ids, first_day, last_day)

    with use_clock(FixedClock(clock().now())):
        by_site = db.run(totals())
    fleet_rows = fleet_totals(by_site)
    assert [f.label for f in fleet_rows] == [first_day, last_day]
    for f in fleet_rows:
        parts = [t.kwh for rows in by_site.values() for t in rows if t.label == f.label]
        assert len(parts) == 3 and f.kwh == pytest.approx(sum(parts)) and f.kwh > 0


def test_a_long_range_is_read_a_month_at_a_time_and_still_equals_the_reference(db):
    start = clock().now().replace(minute=0, second=0, microsecond=0) - timedelta(days=80)
    point = db.run(make_point(db, timezone="Europe/Berlin"))
    rng = random.Random(3)
    samples, value = [], 500.0
    for n in range(75 * 24):
        if n % 500 == 250:
            value = 0.5  # a counter reset now and then
        value += rng.uniform(0, 3)
        if n % 300 != 7:  # and a lost reading
            samples.append(Sample(start + n * timedelta(hours=1), round(value, 3)))
    db.run(ingest(db, point, [(s.ts, s.value, s.quality) for s in samples]))
    db.run(set_interval(db, point, 3600.0))
    lo, hi = start - timedelta(days=2), start + timedelta(days=78)
    with use_clock(FixedClock(clock().now())):
        got = db.run(all_pages(db, point, lo, hi, "day", 1000))
        want = reference_buckets(
            samples,
            bucket_bounds(lo, hi, "day", "Europe/Berlin"),
            cumulative=True,
            interval=timedelta(hours=1),
            now=clock().now(),
        )
    assert len(got) > 70
    assert_same(got, want)


async def queued(db: Db, point: int, rows: list[Sample], *, fold: bool) -> None:
    """Store rows and queue their range as an upload does; fold the queue (as the API's worker) when asked."""
    async with session_scope(db.sessions) as session:
        await insert_rows(session, [(point, r.ts, r.value, r.quality) for r in rows])
        await record_dirty(session, 0, {point: (min(r.ts for r in rows), max(r.ts for r in rows))})
    if fold:
        await flush_rollups(db.sessions)


def two_points_arrive(db: Db, samples: list[Sample], first: dict, second: dict, split: float, pending: float):
    """A site with two points (make_point's keywords; the second's values x 1000, as Wh or W), the samples
    stored as uploads: folded up to `split`, then up to `pending`, the rest queued but not folded.
    Returns the site's id and the two points."""
    one = db.run(make_point(db, **first))

    async def site_of(point: int) -> int:
        async with session_scope(db.sessions) as session:
            return (await session.get(Meter, (await session.get(DataPoint, point)).meter_id)).site_id

    site = db.run(site_of(one))
    two = db.run(make_point(db, site_id=site, **second))
    folded, late = round(split * len(samples)), round(pending * len(samples))
    for point, scale in ((one, 1.0), (two, 1000.0)):
        rows = [Sample(r.ts, r.value * scale, r.quality) for r in samples]
        for part, fold in (
            (rows[:folded], True),
            (rows[folded:late], True),
            (rows[max(folded, late) :], False),
        ):
            if part:
                db.run(queued(db, point, part, fold=fold))
    return site, one, two


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    drawn=st.lists(steps, min_size=1, max_size=60),
    value=st.floats(0, ROLLOVER - 1, allow_nan=False),
    zone=st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC"]),
    wraps=st.booleans(),
    split=st.floats(0, 1),
    pending=st.floats(0, 1),
)
def test_todays_kwh_of_a_site_is_the_energy_querys_day(db, drawn, value, zone, wraps, split, pending):
    """The overview's kWh since local midnight equals the `energy` query's day bucket of the site's registers
    (kWh and Wh), with the summary folded up to a point and later readings stored but not folded yet."""
    rollover = ROLLOVER if wraps else None
    samples = history(
        drawn, local_day_bounds(clock().now().date(), zone)[0] - timedelta(hours=2), value, rollover
    )
    site, kwh, wh = two_points_arrive(
        db,
        samples,
        {"timezone": zone, "rollover": rollover},
        {"unit": "watt-hours", "name": "energy_wh"},
        split,
        pending,
    )
    now = samples[-1].ts + timedelta(minutes=5)

    async def both():
        async with session_scope(db.sessions) as session:
            today = (await today_energy_by_site(session, [site], now))[site]
            facts = [await energy_point(session, p) for p in (kwh, wh)]
            lo, hi = local_day_bounds(local_day(now, zone), zone)
            pages = await energy_pages(session, facts, lo, hi, "day")
        factors = {kwh: 1.0, wh: 0.001}
        return today, sum(b.consumption * factors[p] for p in (kwh, wh) for b in pages[p] if b.consumption)

    with use_clock(FixedClock(now)):
        today, day = db.run(both())
    assert today == pytest.approx(day, rel=1e-9, abs=1e-9)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    drawn=st.lists(steps, min_size=1, max_size=60),
    value=st.floats(0, 500, allow_nan=False),
    zone=st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC"]),
    split=st.floats(0, 1),
    pending=st.floats(0, 1),
)
def test_the_overviews_power_per_hour_is_the_energy_querys_hour_means(db, drawn, value, zone, split, pending):
    """The overview's mean kW per hour since local midnight (summed over a site's power points, kW and W) is the
    `energy` query's hour means, with the summary folded up to a point and later readings not folded yet."""
    samples = history(
        drawn, local_day_bounds(clock().now().date(), zone)[0] - timedelta(hours=2), value, None
    )
    site_id, kw, w = two_points_arrive(
        db,
        samples,
        {"timezone": zone, "cumulative": False, "unit": "kilowatts", "name": "power_kw"},
        {"cumulative": False, "unit": "watts", "name": "power_w"},
        split,
        pending,
    )
    now = samples[-1].ts + timedelta(minutes=5)

    async def both():
        async with session_scope(db.sessions) as session:
            site = await session.get(Site, site_id)
            got = (await power_today(session, [site], now))[site_id]
            midnight = local_day_bounds(local_day(now, zone), zone)[0]
            facts = [await energy_point(session, p) for p in (kw, w)]
            pages = await energy_pages(session, facts, midnight, now + timedelta(hours=1), "hour")
        want: dict[int, float] = {}
        for point, factor in ((kw, 1.0), (w, 0.001)):
            for b in pages[point]:
                if b.mean is not None:
                    hour = int((b.start - midnight).total_seconds() // 3600)
                    want[hour] = want.get(hour, 0.0) + b.mean * factor
        return got, want

    with use_clock(FixedClock(now)):
        got, want = db.run(both())
    assert {i for i, v in enumerate(got) if v is not None} == {i for i in want if i < len(got)}
    for hour, mean in want.items():
        if hour < len(got):
            assert got[hour] == pytest.approx(round(mean, 3), abs=2e-3)
