"""Property test: buckets assembled from quarter parts equal the reference buckets (pure, no database)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from db.central.energy_parts import buckets_from_parts, quarter_floor, quarter_parts
from db.energy import Sample, bucket_bounds, reference_buckets
from tests.db.energy.test_consumption_rules import assert_same

START = datetime(2026, 3, 28, 21, 7, 13, tzinfo=UTC)  # the night Europe/Berlin springs forward
GAP = timedelta(seconds=180)


def samples_from(draw_steps) -> list[Sample]:
    ts, value, rows = START, 100.0, []
    for seconds, change, quality in draw_steps:
        ts += timedelta(seconds=seconds)
        value = 0.5 if change < -1e6 else max(value + change, 0.0)
        rows.append(Sample(ts, round(value, 6), quality))
    return rows


steps = st.tuples(
    st.sampled_from([1, 30, 60, 60, 200, 900, 3600, 7300]),
    st.one_of(st.floats(0, 5), st.just(-1e9), st.floats(-0.01, 0)),
    st.sampled_from([0, 0, 0, 1, 2]),
)


@settings(max_examples=40, deadline=None)
@given(
    draw_steps=st.lists(steps, min_size=1, max_size=50),
    resolution=st.sampled_from(["quarter_hour", "hour", "day"]),
    zone=st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC"]),
    cumulative=st.booleans(),
    now_after=st.integers(-20_000, 90_000),
)
def test_parts_give_the_reference_buckets(draw_steps, resolution, zone, cumulative, now_after):
    rows = samples_from(draw_steps)
    now = START + timedelta(seconds=now_after)
    lo, hi = START - timedelta(hours=2), rows[-1].ts + timedelta(hours=3)
    bounds = bucket_bounds(lo, hi, resolution, zone)
    a, b = quarter_floor(bounds[0][0]), bounds[-1][1]
    parts = quarter_parts(rows, a, b, cumulative=cumulative, gap=GAP.total_seconds(), now=now)
    price = lambda ts: 0.1 + (ts.astimezone(ZoneInfo(zone)).hour % 3) / 10  # noqa: E731  (by local hour)
    got = buckets_from_parts(
        parts, bounds, cumulative=cumulative, now=now, price=price if cumulative else None
    )
    want = reference_buckets(
        rows,
        bounds,
        cumulative=cumulative,
        interval=GAP / 3,
        now=now,
        price=price if cumulative else None,
        timezone=zone,
    )
    assert_same(got, want)
