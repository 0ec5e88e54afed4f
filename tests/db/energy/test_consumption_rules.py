"""Consumption per bucket (db/energy/consumption.py) against the plain reference (db.energy.reference_buckets)."""

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from db.central.tariffs import make_tariff
from db.clock import FixedClock, clock, use_clock
from db.energy import (
    QUALITY_BAD,
    QUALITY_GOOD,
    QUALITY_UNCERTAIN,
    EnergyBucket,
    Sample,
    bucket_bounds,
    reference_buckets,
)
from db.energy.consumption import energy_buckets

# Pure functions: literal instants are inputs here, no clock is read.
SPRING = datetime(2026, 3, 28, 20, 0, tzinfo=UTC)  # Berlin springs forward the next night
MINUTE = timedelta(minutes=1)
ROLLOVER = 10_000.0

steps = st.tuples(
    st.sampled_from([30, 60, 60, 60, 120, 420, 900, 3600, 7200]),
    st.one_of(st.floats(0, 5, allow_nan=False), st.just(-1e9), st.floats(-0.01, 0, allow_nan=False)),
    st.sampled_from([0, 0, 0, 0, 1, 2]),
)


def history(drawn, start: datetime, value: float, rollover: float | None) -> list[Sample]:
    """Samples from drawn steps: resets to a small value, wraps at the rollover limit."""
    ts, rows = start, []
    for seconds, change, quality in drawn:
        ts += timedelta(seconds=seconds)
        if change == -1e9:
            value = random.Random(seconds).uniform(0, 1)
        else:
            value = max(value + change, 0.0)
            if rollover is not None and value >= rollover:
                value -= rollover
        rows.append(Sample(ts, round(value, 6), quality))
    return rows


def close(a, b) -> bool:
    """Equal, or floats equal to 1e-6 relative."""
    if a is None or b is None:
        return a is b
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


NUMBERS = (
    "mean",
    "min",
    "max",
    "first_value",
    "last_value",
    "consumption",
    "completeness",
    "peak_demand",
    "cost",
)
TARIFF = make_tariff(
    "EUR",
    0.30,
    bands=[
        {"days": [0, 1, 2, 3, 4], "start_hour": 8, "end_hour": 20, "price_per_kwh": 0.40},
        {"days": [5, 6], "start_hour": 0, "end_hour": 24, "price_per_kwh": 0.20},
    ],
)


def assert_same(got: list[EnergyBucket], want: list[EnergyBucket]) -> None:
    """Same buckets with the same figures."""
    assert [(b.start, b.end) for b in got] == [(b.start, b.end) for b in want]
    for g, w in zip(got, want, strict=True):
        for name in NUMBERS:
            assert close(getattr(g, name), getattr(w, name)), (
                g.start,
                name,
                getattr(g, name),
                getattr(w, name),
            )
        assert (g.count, g.quality) == (w.count, w.quality), (g, w)


@settings(max_examples=200, deadline=None)
@given(
    drawn=st.lists(steps, min_size=0, max_size=80),
    value=st.floats(0, ROLLOVER - 1, allow_nan=False),
    resolution=st.sampled_from(["quarter_hour", "hour", "day", "month"]),
    zone=st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC"]),
    cumulative=st.booleans(),
    rollover=st.sampled_from([None, ROLLOVER]),
    seed=st.integers(0, 1000),
    now_after=st.integers(0, 40 * 3600),
    priced=st.booleans(),
)
def test_one_pass_equals_the_reference(
    drawn, value, resolution, zone, cumulative, rollover, seed, now_after, priced
):
    samples = history(drawn, SPRING, value, rollover)
    arrived = samples + samples[: seed % 5]  # duplicates
    random.Random(seed).shuffle(arrived)  # arrival order
    bounds = bucket_bounds(SPRING - timedelta(hours=3), SPRING + timedelta(days=3), resolution, zone)
    now = SPRING + timedelta(seconds=now_after)
    kwargs = {
        "cumulative": cumulative,
        "interval": MINUTE,
        "now": now,
        "rollover": rollover,
        "timezone": zone,
    }
    kwargs["price"] = TARIFF.pricer(zone) if priced else None
    got = energy_buckets(arrived, bounds, **kwargs)
    assert_same(got, reference_buckets(samples, bounds, **kwargs))
    usable = [s for s in samples if s.quality < 2]
    for b in got:  # no bucket without a reading in it or around it
        assert any(b.start <= s.ts < b.end for s in samples) or (
            cumulative and usable[0].ts < b.end and usable[-1].ts > b.start
        )
    if cumulative and len(usable) > 1:  # nothing lost or invented: buckets add up to the whole span
        [whole] = reference_buckets(samples, [(bounds[0][0], bounds[-1][1])], **kwargs)
        assert close(sum(b.consumption or 0.0 for b in got), whole.consumption)
        if priced:  # and cost the same, however the span is cut
            assert close(sum(b.cost or 0.0 for b in got), whole.cost)


def _quarter_hours(now: datetime) -> tuple[datetime, list[Sample]]:
    """A register at 1 kWh per minute read every minute for two hours before now."""
    start = now - timedelta(hours=2)
    return start, [Sample(start + n * MINUTE, float(n)) for n in range(121)]


def test_an_interval_across_an_edge_is_split_by_time():
    t0 = datetime(2026, 1, 5, 9, 50, tzinfo=UTC)
    samples = [Sample(t0, 100.0), Sample(t0 + timedelta(minutes=20), 120.0)]  # 10:10: 20 kWh over 20 min
    bounds = bucket_bounds(t0, t0 + timedelta(minutes=20), "hour", "UTC")
    nine, ten = energy_buckets(
        samples, bounds, cumulative=True, interval=timedelta(minutes=10), now=t0 + timedelta(days=1)
    )
    assert (nine.consumption, ten.consumption) == (10.0, 10.0)
    assert (nine.first_value, ten.last_value) == (100.0, 120.0)
    assert ten.first_value == 120.0


def test_a_gap_is_spread_and_partial_never_a_spike_or_zero():
    t0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    samples = [Sample(t0 + n * MINUTE, float(n)) for n in range(61)]  # 9:00-10:00 1 kWh/min
    samples += [Sample(t0 + timedelta(hours=4), 60.0 + 180.0)]  # back at 13:00, 180 kWh later
    bounds = bucket_bounds(t0, t0 + timedelta(hours=4), "hour", "UTC")
    got = energy_buckets(samples, bounds, cumulative=True, interval=MINUTE, now=t0 + timedelta(days=1))
    assert [round(b.consumption, 9) for b in got] == [60.0, 60.0, 60.0, 60.0]
    assert [b.quality for b in got] == [QUALITY_GOOD, QUALITY_UNCERTAIN, QUALITY_UNCERTAIN, QUALITY_UNCERTAIN]
    assert got[2].count == 0 and got[2].completeness == 0.0


def test_a_counter_reset_counts_from_zero_and_a_rollover_wraps():
    t0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    values = [990.0, 995.0, 3.0, 8.0]  # wrap at 1000 between the 2nd and 3rd reading
    samples = [Sample(t0 + n * MINUTE, v) for n, v in enumerate(values)]
    [hour] = energy_buckets(
        samples,
        bucket_bounds(t0, t0 + MINUTE, "hour", "UTC"),
        cumulative=True,
        interval=MINUTE,
        now=t0 + timedelta(hours=2),
        rollover=1000.0,
    )
    assert hour.consumption == 18.0
    [hour] = energy_buckets(
        samples,
        bucket_bounds(t0, t0 + MINUTE, "hour", "UTC"),
        cumulative=True,
        interval=MINUTE,
        now=t0 + timedelta(hours=2),
    )
    assert hour.consumption == 5.0 + 3.0 + 5.0  # without a limit the drop is a reset: counts the new value


def test_dst_days_have_23_and_25_hours():
    for zone, spring, autumn in (
        ("Europe/Berlin", datetime(2026, 3, 29, 12, tzinfo=UTC), datetime(2026, 10, 25, 12, tzinfo=UTC)),
        ("America/New_York", datetime(2026, 3, 8, 12, tzinfo=UTC), datetime(2026, 11, 1, 12, tzinfo=UTC)),
    ):
        [(s, e)] = bucket_bounds(spring, spring + MINUTE, "day", zone)
        assert e - s == timedelta(hours=23)
        [(s, e)] = bucket_bounds(autumn, autumn + MINUTE, "day", zone)
        assert e - s == timedelta(hours=25)
        hours = bucket_bounds(s, e, "hour", zone)
        assert len(hours) == 25 and hours[0][0] == s and hours[-1][1] == e
        samples = [Sample(s + n * MINUTE, float(n)) for n in range(25 * 60 + 1)]
        [day] = energy_buckets(samples, [(s, e)], cumulative=True, interval=MINUTE, now=e + timedelta(days=1))
        assert day.consumption == 25 * 60 and day.quality == QUALITY_GOOD


def test_months_follow_local_midnight():
    bounds = bucket_bounds(
        datetime(2026, 2, 10, tzinfo=UTC), datetime(2026, 4, 2, tzinfo=UTC), "month", "Europe/Berlin"
    )
    assert [s for s, _ in bounds] == [
        datetime(2026, 1, 31, 23, tzinfo=UTC),
        datetime(2026, 2, 28, 23, tzinfo=UTC),
        datetime(2026, 3, 31, 22, tzinfo=UTC),
    ]


def test_completeness_counts_only_up_to_now():
    with use_clock(FixedClock(clock().now().replace(minute=30, second=0, microsecond=0))):
        now = clock().now()
        start, samples = _quarter_hours(now)
        bounds = bucket_bounds(now - timedelta(hours=2), now + timedelta(hours=2), "hour", "UTC")
        got = energy_buckets(samples, bounds, cumulative=True, interval=MINUTE, now=clock().now())
    # readings start half-way into the first hour; the current hour is complete so far, later ones absent
    assert [b.completeness for b in got] == [0.5, 1.0, 1.0]
    assert [b.quality for b in got] == [QUALITY_UNCERTAIN, QUALITY_GOOD, QUALITY_GOOD]
    assert got[-1].consumption == 30.0  # no bucket after the newest reading


def test_instantaneous_points_give_mean_min_max_and_peak_quarter():
    t0 = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)
    power = [10.0] * 60 * 24
    for n in range(600, 615):
        power[n] = 50.0  # 10:00-10:15 at 50 kW
    power[700] = 90.0  # one spike inside a quarter averages out
    samples = [Sample(t0 + n * MINUTE, p) for n, p in enumerate(power)]
    [day] = energy_buckets(
        samples,
        bucket_bounds(t0, t0 + MINUTE, "day", "UTC"),
        cumulative=False,
        interval=MINUTE,
        now=t0 + timedelta(days=2),
    )
    assert (day.min, day.max, day.peak_demand, day.peak_demand_at) == (
        10.0,
        90.0,
        50.0,
        t0 + timedelta(hours=10),
    )
    assert day.consumption is None


def test_bad_readings_alone_make_a_bad_bucket():
    t0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    samples = [Sample(t0, 5.0, 2), Sample(t0 + MINUTE, 6.0, 2)]
    [hour] = energy_buckets(
        samples,
        bucket_bounds(t0, t0 + MINUTE, "hour", "UTC"),
        cumulative=True,
        interval=MINUTE,
        now=t0 + timedelta(hours=3),
    )
    assert (hour.quality, hour.consumption, hour.count) == (QUALITY_BAD, None, 2)


def test_cost_follows_the_local_hour_bands():
    monday = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)  # 07:00 in Berlin
    samples = [Sample(monday + n * MINUTE, float(n)) for n in range(3 * 60 + 1)]  # 1 kWh a minute, 3 h
    bounds = bucket_bounds(monday, monday + timedelta(hours=3), "hour", "Europe/Berlin")
    got = energy_buckets(
        samples,
        bounds,
        cumulative=True,
        interval=MINUTE,
        now=monday + timedelta(days=1),
        price=TARIFF.pricer("Europe/Berlin"),
        timezone="Europe/Berlin",
    )
    assert [round(b.cost, 9) for b in got] == [60 * 0.30, 60 * 0.40, 60 * 0.40]  # 07-08 off-peak, then peak
