"""Pure rules: register steps, order independence, gaps, day boundaries and units."""

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import available_timezones

from hypothesis import given, settings
from hypothesis import strategies as st

from db.energy import (
    Sample,
    StepKind,
    consumption_deltas,
    local_day,
    local_day_bounds,
    local_days,
    site_zone,
    step,
    total_consumption,
)
from db.energy.units import infer_cumulative, is_cumulative_unit, kwh_factor

T0 = datetime(2026, 6, 1, tzinfo=UTC)


def test_steps_never_count_negative_consumption():
    assert step(100.0, 105.5) == (5.5, StepKind.NORMAL)
    assert step(100.0, 2.0) == (2.0, StepKind.RESET)  # counter restarted from zero
    assert step(100.0, 99.99) == (0.0, StepKind.JITTER)  # a wobble is not a phantom spike
    assert step(999_990.0, 15.0, rollover=1_000_000.0) == (25.0, StepKind.ROLLOVER)
    # far from the limit a drop is still a reset, not a wrap of half the register
    assert step(400_000.0, 15.0, rollover=1_000_000.0) == (15.0, StepKind.RESET)


def test_gaps_are_marked_and_still_counted():
    samples = [
        Sample(T0, 10.0),
        Sample(T0 + timedelta(minutes=1), 11.0),
        Sample(T0 + timedelta(hours=2), 20.0),
    ]
    deltas = consumption_deltas(samples, max_gap=timedelta(minutes=3))
    assert [d.gap for d in deltas] == [False, True]
    assert sum(d.value for d in deltas) == 10.0


def test_bad_readings_are_skipped_and_duplicates_kept_once():
    samples = [Sample(T0, 10.0), Sample(T0 + timedelta(minutes=1), 0.0, quality=2), Sample(T0, 10.0)]
    samples.append(Sample(T0 + timedelta(minutes=2), 12.0))
    assert [d.value for d in consumption_deltas(samples)] == [2.0]


@settings(max_examples=40)
@given(
    increments=st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=50),
    resets=st.sets(st.integers(0, 49), max_size=3),
    seed=st.integers(0, 1000),
)
def test_consumption_does_not_depend_on_arrival_order(increments, resets, seed):
    value, samples, expected = 500.0, [], 0.0
    for n, inc in enumerate(increments):
        reset = n in resets and value > 1.0  # a counter restart: the register drops to 0.5
        value = 0.5 if reset else value + inc
        expected += (0.5 if reset else inc) if n else 0.0
        samples.append(Sample(T0 + timedelta(minutes=n), value))
    shuffled = samples[:]
    random.Random(seed).shuffle(shuffled)
    assert consumption_deltas(shuffled) == consumption_deltas(samples)
    assert abs(total_consumption(shuffled) - expected) < 1e-6 * max(1.0, expected)


def test_dst_days_are_23_and_25_hours():
    spring, autumn = (
        local_day_bounds(date(2026, 3, 29), "Europe/Berlin"),
        local_day_bounds(date(2026, 10, 25), "Europe/Berlin"),
    )
    assert spring[1] - spring[0] == timedelta(hours=23)
    assert autumn[1] - autumn[0] == timedelta(hours=25)
    ny = local_day_bounds(date(2026, 3, 8), "America/New_York")
    assert ny == (datetime(2026, 3, 8, 5, tzinfo=UTC), datetime(2026, 3, 9, 4, tzinfo=UTC))
    assert local_days(ny[0], ny[1] - timedelta(microseconds=1), "America/New_York") == [date(2026, 3, 8)]


def test_units_decide_cumulative_with_override():
    assert is_cumulative_unit("kilowatt-hours") is True
    assert is_cumulative_unit("kWh") is True
    assert is_cumulative_unit("kilowatts") is False
    assert is_cumulative_unit("no-units") is None
    assert infer_cumulative("kilowatts", "total_kwh") is False  # the unit beats the name
    assert infer_cumulative(None, "total_kwh") is True
    assert infer_cumulative(None, "power_kw") is False
    assert infer_cumulative("kilowatt-hours", "x", override=False) is False
    assert kwh_factor("watt-hours") == 0.001 and kwh_factor("kilowatts") is None


def test_a_sites_zone_is_held_whatever_other_zones_are_used_meanwhile():
    # ZoneInfo keeps the last 8 zones alive; a fold over sites in more zones rebuilt them from their files
    berlin = site_zone("Europe/Berlin")
    for name in sorted(available_timezones())[:40]:
        assert local_day(datetime(2026, 3, 1, 23, 30, tzinfo=UTC), name) in (
            date(2026, 3, 1),
            date(2026, 3, 2),
        )
    assert site_zone("Europe/Berlin") is berlin
    assert local_day(datetime(2026, 3, 1, 23, 30, tzinfo=UTC), "Europe/Berlin") == date(2026, 3, 2)
