"""generateReport on real PostgreSQL: energy per day across a counter reset, peak power, completeness, formats."""

import csv
import io
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select

from api.errors import InvalidInput, NotFoundError
from api.services.access import ADMIN
from api.services.readings import readings
from api.services.report_formats import to_csv, to_html, to_markdown
from api.services.reports import generate_report
from db.central.energy_query import energy_pages, energy_points
from db.central.ingest.batch import ingest_batch, insert_rows
from db.central.models import DataPoint, Meter, Site
from db.central.rollups.queue import flush_rollups, record_dirty
from db.central.site_status import SIMULATED_FROM, SIMULATED_UNTIL
from db.central.tariffs import make_tariff, set_tariff
from db.clock import FixedClock, use_clock
from db.clock import clock as process_clock
from db.engine import session_scope

STEP = timedelta(minutes=15)
MONDAY = datetime(2026, 3, 2, tzinfo=UTC)  # the tariff test is about weekdays; that report reads no clock


@pytest.fixture
def d1(dated_clock) -> datetime:
    """The first reported day: UTC midnight three days before each chosen date."""
    return datetime.combine(dated_clock.today() - timedelta(days=3), time(), UTC)


def peak_at(d1: datetime) -> datetime:
    """When the kW point peaks."""
    return d1 + timedelta(days=1, hours=14, minutes=30)


def missing(d1: datetime) -> set[datetime]:
    """Two hours of energy readings that were lost."""
    return {d1 + timedelta(hours=3, minutes=15 * n) for n in range(8)}


async def site_with_meter(
    session, name: str, external_id: str, **site_fields
) -> tuple[Site, Meter, DataPoint]:
    """A site with one meter, "Main", whose kWh register is `total_kwh`."""
    site = Site(name=name, key_prefix=name.lower().replace(" ", ""), key_hash="x", **site_fields)
    session.add(site)
    await session.flush()
    meter = Meter(site_id=site.id, external_id=external_id, name="Main")
    session.add(meter)
    await session.flush()
    energy = DataPoint(meter_id=meter.id, name="total_kwh", unit="kilowatt-hours", cumulative=True)
    session.add(energy)
    await session.flush()
    return site, meter, energy


async def build_site(sessions, d1: datetime) -> tuple[int, int]:
    """A site with one meter: a kWh register (reset on day 2 at noon) and a kW point, every 15 min for 2 days."""
    async with session_scope(sessions) as session:
        site, meter, energy = await site_with_meter(
            session, "Report Plant", "meter-001", collection_interval_seconds=900
        )
        power = DataPoint(meter_id=meter.id, name="power_kw", unit="kilowatts", cumulative=False)
        session.add(power)
        await session.flush()
        rows, register, lost, peak = [], 5000.0, missing(d1), peak_at(d1)
        for n in range(2 * 96 + 1):
            ts = d1 + n * STEP
            register += 1.0 if n else 0.0
            if ts == d1 + timedelta(days=1, hours=12):
                register = 1.0  # the meter was reset to zero and counted 1 kWh since
            if ts not in lost:
                rows.append((energy.id, ts, register, 0))
            rows.append((power.id, ts, 42.5 if ts == peak else 10.0 + (n % 7), 0))
        await insert_rows(session, rows)
        span = (d1, d1 + timedelta(days=2))
        await record_dirty(session, site.id, {energy.id: span, power.id: span})  # as an upload, then folded
        ids = site.id, meter.id
    await flush_rollups(sessions)
    return ids


async def test_daily_energy_peak_and_completeness(sessions, d1):
    site_id, meter_id = await build_site(sessions, d1)
    peak, day2 = peak_at(d1), d1 + timedelta(days=1)
    async with session_scope(sessions) as session:
        report = await generate_report(session, [site_id], d1, d1 + timedelta(days=2), "DAY", scope=ADMIN)
    [site] = report.sites
    assert [p.energy_kwh for p in site.periods] == [96.0, 96.0]  # the reset costs nothing
    assert site.energy_kwh == 192.0
    [meter] = site.meters
    assert meter.meter_id == meter_id and meter.counter_resets == 1
    assert (meter.peak_power_kw, meter.peak_power_at) == (42.5, peak)
    assert (site.peak_power_kw, site.peak_power_at) == (42.5, peak)
    assert meter.expected_readings == 2 * 192  # two points, 96 readings a day each
    assert meter.received_readings == 2 * 192 - len(missing(d1))
    assert site.completeness == pytest.approx(376 / 384)

    rows = list(csv.DictReader(io.StringIO(to_csv(report))))
    assert [(r["meter"], r["period_start"], r["energy_kwh"]) for r in rows] == [
        ("meter-001", d1.isoformat(), "96.000"),
        ("meter-001", day2.isoformat(), "96.000"),
    ]
    assert rows[0]["meter_peak_power_kw"] == "42.500" and rows[0]["meter_completeness"] == "0.9792"
    markdown = to_markdown(report)
    assert "## Report Plant (UTC)" in markdown and f"| {day2:%Y-%m-%d %H:%M} | 96.000 |" in markdown
    assert "completeness 97.9% (376 of 384 readings)" in markdown
    assert "<h2>Report Plant (UTC)</h2>" in to_html(report)


async def test_a_bad_reading_is_not_the_peak(sessions, d1):
    """The peak is the highest usable reading: a bad (quality 2) spike in another hour does not hide it."""
    site_id, meter_id = await build_site(sessions, d1)
    async with session_scope(sessions) as session:
        power = await session.scalar(
            select(DataPoint.id).where(DataPoint.meter_id == meter_id, DataPoint.name == "power_kw")
        )
        spike = d1 + timedelta(hours=20, minutes=7)
        await insert_rows(session, [(power, spike, 99.0, 2)])
        await record_dirty(session, site_id, {power: (spike, spike)})
    await flush_rollups(sessions)
    async with session_scope(sessions) as session:
        report = await generate_report(session, [site_id], d1, d1 + timedelta(days=2), "DAY", scope=ADMIN)
    [meter] = report.sites[0].meters
    assert (meter.peak_power_kw, meter.peak_power_at) == (42.5, peak_at(d1))


async def test_simulated_demo_readings_are_marked_in_every_download(sessions, d1):
    site_id, _ = await build_site(sessions, d1)
    async with session_scope(sessions) as session:
        site = await session.get(Site, site_id)
        simulated_until = d1 + timedelta(hours=30)  # the demo's history ends on day 2
        site.health = {
            SIMULATED_FROM: (d1 - timedelta(days=30)).isoformat(),
            SIMULATED_UNTIL: simulated_until.isoformat(),
        }
    async with session_scope(sessions) as session:
        report = await generate_report(session, [site_id], d1, d1 + timedelta(days=3), "DAY", scope=ADMIN)
    rows = list(csv.DictReader(io.StringIO(to_csv(report))))
    assert [r["simulated"] for r in rows] == ["yes", "yes", ""]  # days 1 and 2 hold simulated readings
    markdown = to_markdown(report)
    assert "includes simulated (demo) readings, not measured" in markdown
    assert (
        f"| {d1:%Y-%m-%d %H:%M} * |" in markdown
        and f"| {d1 + timedelta(days=2):%Y-%m-%d %H:%M} |" in markdown
    )
    assert "simulated (demo) readings" in to_html(report)
    async with session_scope(sessions) as session:
        later = await generate_report(
            session, [site_id], d1 + timedelta(days=2), d1 + timedelta(days=3), "DAY", scope=ADMIN
        )
    assert "simulated" not in to_markdown(later) and [
        r["simulated"] for r in csv.DictReader(io.StringIO(to_csv(later)))
    ] == [""]


async def test_hourly_resolution_and_bad_arguments(sessions, d1):
    site_id, _ = await build_site(sessions, d1)
    async with session_scope(sessions) as session:
        report = await generate_report(session, [site_id], d1, d1 + timedelta(hours=6), "hour", scope=ADMIN)
        energy = [p.energy_kwh for p in report.sites[0].periods]
        # 4 kWh an hour; the two hours of lost readings get the register's rise across the gap split by time,
        # as the energy query splits it, not all of it in the hour of the next reading
        assert energy == [4.0] * 6
        with pytest.raises(InvalidInput, match="to must be after from"):
            await generate_report(session, [site_id], d1, d1, "DAY", scope=ADMIN)
        with pytest.raises(InvalidInput, match="resolution"):
            await generate_report(session, [site_id], d1, d1 + STEP, "WEEK", scope=ADMIN)
        with pytest.raises(NotFoundError, match="no site with id 999999"):
            await generate_report(session, [999999], d1, d1 + STEP, "DAY", scope=ADMIN)


async def _site_reading_every(sessions, seconds: int, start, count: int, config: dict | None = None) -> int:
    """A site with the default 60 s collection interval and a kWh meter read every `seconds`."""
    async with session_scope(sessions) as session:
        site = Site(name=f"Own interval {seconds}", key_prefix=f"own{seconds}", key_hash="x")
        session.add(site)
        await session.flush()
        meter = Meter(site_id=site.id, external_id="meter-q", name="Q", config=config or {})
        session.add(meter)
        await session.flush()
        point = DataPoint(meter_id=meter.id, name="total_kwh", unit="kilowatt-hours", cumulative=True)
        session.add(point)
        await session.flush()
        rows = [(point.id, start + n * timedelta(seconds=seconds), float(n), 0) for n in range(count)]
        await insert_rows(session, rows)
        return site.id


async def test_completeness_uses_the_meters_own_interval(sessions):
    day = process_clock().now().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=3)
    site_id = await _site_reading_every(sessions, 900, day, 96)  # every 15 min, the site says 60 s
    async with session_scope(sessions) as session:
        report = await generate_report(session, [site_id], day, day + timedelta(days=1), "DAY", scope=ADMIN)
    [meter] = report.sites[0].meters
    assert (meter.expected_readings, meter.received_readings) == (96, 96)
    assert meter.completeness == 1.0


async def test_completeness_counts_only_the_time_up_to_now(sessions):
    moment = process_clock().now().replace(hour=12, minute=0, second=0, microsecond=0)
    midnight = moment.replace(hour=0)
    site_id = await _site_reading_every(
        sessions, 300, midnight, 12 * 12, config={"interval_seconds": 300}
    )  # up to 11:55
    with use_clock(FixedClock(moment)):
        async with session_scope(sessions) as session:
            report = await generate_report(
                session, [site_id], midnight, midnight + timedelta(days=1), "DAY", scope=ADMIN
            )
    [meter] = report.sites[0].meters
    assert (meter.expected_readings, meter.received_readings) == (144, 144)  # not 288: the afternoon is ahead


async def test_an_estimated_bucket_is_uncertain_not_bad(sessions):
    hour = process_clock().now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=5)
    async with session_scope(sessions) as session:
        site = Site(name="Quality plant", key_prefix="qualityplant", key_hash="x")
        session.add(site)
        await session.flush()
        meter = Meter(site_id=site.id, external_id="meter-e", name="E")
        session.add(meter)
        await session.flush()
        point = DataPoint(meter_id=meter.id, name="power_kw", unit="kilowatts")
        session.add(point)
        await session.flush()
        qualities = [1] * 6 + [2] * 6 + [0, 2] * 3 + [0] * 6  # hours: estimated, bad, mixed, good
        rows = [(point.id, hour + n * timedelta(minutes=10), 5.0, q) for n, q in enumerate(qualities)]
        await insert_rows(session, rows)
        meter_id = meter.id
    async with session_scope(sessions) as session:
        for resolution in ("hour", "minute"):
            end = hour + timedelta(hours=4)
            page, _ = await readings(session, meter_id, "power_kw", hour, end, resolution, 100, scope=ADMIN)
            by_hour = {}
            for row in page:
                key = row.ts.replace(minute=0)
                by_hour[key] = (
                    max(by_hour.get(key, 0), row.quality) if resolution == "minute" else row.quality
                )
            if resolution == "hour":
                assert list(by_hour.values()) == [1, 2, 1, 0]
            else:  # minute buckets hold one reading: their own quality
                assert sorted({r.quality for r in page}) == [0, 1, 2]


async def test_a_site_tariff_costs_each_period_by_its_hours(sessions):
    site_id, _ = await build_site(sessions, MONDAY)
    weekday_peak = make_tariff(
        "EUR", 0.30, bands=[{"days": [0, 1, 2, 3, 4], "start_hour": 8, "end_hour": 20, "price_per_kwh": 0.40}]
    )
    async with session_scope(sessions) as session:
        await set_tariff(session, site_id, weekday_peak)
    with use_clock(FixedClock(MONDAY + timedelta(days=3))):  # the report's clock, after the reported days
        async with session_scope(sessions) as session:
            report = await generate_report(
                session, [site_id], MONDAY, MONDAY + timedelta(days=2), "DAY", scope=ADMIN
            )
    [site] = report.sites
    # Monday and Tuesday: 12 off-peak hours and 12 peak hours of 4 kWh (the lost readings' energy is
    # counted in an off-peak hour, the reset costs nothing)
    assert [round(p.cost, 6) for p in site.periods] == [33.6, 33.6]
    assert site.currency == "EUR" and round(site.cost, 6) == 67.2
    rows = list(csv.DictReader(io.StringIO(to_csv(report))))
    assert [r["cost"] for r in rows] == ["33.60", "33.60"] and rows[0]["currency"] == "EUR"
    assert "cost 67.20 EUR" in to_markdown(report) and "<th>Cost EUR</th>" in to_html(report)


async def test_a_report_gives_the_energy_querys_figures(sessions, d1):
    """Energy and cost per period equal the `energy` query's buckets over the same local days and hours, also
    where readings straddle the periods' edges and the tariff's, in a zone whose hours start at :30 UTC."""
    async with session_scope(sessions) as session:
        site, _, point = await site_with_meter(session, "Kolkata Mill", "meter-k", timezone="Asia/Kolkata")
        site_id, point_id = site.id, point.id
        await set_tariff(
            session,
            site_id,
            make_tariff(
                "INR",
                7.0,
                bands=[{"days": list(range(7)), "start_hour": 9, "end_hour": 17, "price_per_kwh": 11.0}],
            ),
        )
    start = d1 + timedelta(minutes=3)  # every 7 minutes from 00:03 UTC: no reading on an hour's edge
    items = [
        {
            "meter_external_id": "meter-k",
            "data_point": "total_kwh",
            "timestamp": (start + n * timedelta(minutes=7)).isoformat(),
            "value": 1000.0 + 0.5 * n + (n % 5) * 0.1,
            "unit": "kilowatt-hours",
        }
        for n in range(3 * 24 * 60 // 7)
    ]
    for n in range(0, len(items), 100):  # the edge's uploads, queued and folded as the API's worker does
        async with session_scope(sessions) as session:
            await ingest_batch(session, site_id, f"k-{n}", items[n : n + 100])
    await flush_rollups(sessions)
    windows = {
        "DAY": (d1, d1 + timedelta(days=3)),
        "HOUR": (d1 + timedelta(hours=6), d1 + timedelta(hours=16)),
    }
    for resolution, (lo, hi) in windows.items():
        label = resolution.lower()
        async with session_scope(sessions) as session:
            report = await generate_report(session, [site_id], lo, hi, resolution, scope=ADMIN)
            facts = await energy_points(session, [point_id])
            buckets = (await energy_pages(session, list(facts.values()), lo, hi, label))[point_id]
        [site_report] = report.sites
        expected = {b.start: (b.consumption, b.cost) for b in buckets if lo <= b.start and b.end <= hi}
        got = {p.start: (p.energy_kwh, p.cost) for p in site_report.periods if p.end <= hi}
        assert got.keys() == expected.keys() and len(got) >= 2
        for at, (kwh, cost) in got.items():
            assert kwh == pytest.approx(expected[at][0], rel=1e-12) and cost == pytest.approx(
                expected[at][1], rel=1e-12
            )
        if resolution == "HOUR":
            assert {p.start.minute for p in site_report.periods} == {30}  # local hours: :30 in UTC
