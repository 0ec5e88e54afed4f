"""The one-pass rollup increments (db/central/rollups/stream.py) from the fold's windows equal the reference."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from db.central.energy_fold import Window, micros
from db.central.rollups.refresh import PointInfo
from db.central.rollups.stream import RollupStream
from db.energy import BAD_QUALITY
from tests.support.energy import FOLD_FORMS, assert_matches, fold_form, local_date, reference, utc_hour

MAX_GAP = timedelta(seconds=180)
ROLLOVER = 10_000.0
STARTS = [
    datetime(2026, 3, 28, 22, 0, tzinfo=UTC),  # Berlin springs forward at 01:00 UTC
    datetime(2026, 10, 24, 22, 30, tzinfo=UTC),  # Berlin falls back at 01:00 UTC
    datetime(2026, 3, 29, 18, 0, tzinfo=UTC),  # Kolkata's midnight is 18:30 UTC
]
STAT_NAMES = (
    "count good_count min_value max_value sum_value first_ts first_value last_ts last_value consumption "
    "reset_count gap_count"
).split()

steps = st.tuples(
    st.sampled_from([30, 60, 60, 60, 120, 240, 3600]),  # seconds to the next reading (on the hour often)
    st.one_of(st.floats(0, 5, allow_nan=False), st.just(-1e9), st.floats(-0.01, 0, allow_nan=False)),
    st.sampled_from([0, 0, 0, 0, 1, 2]),
)


def windows(rows: list[tuple], cuts: list[datetime]) -> list[tuple]:
    """The fold's windows [lo, hi) over rows, each with the usable reading on either side, as it reads them."""
    out = []
    for lo, hi in zip(cuts, cuts[1:], strict=False):
        before = [r for r in rows if r[0] < lo and r[2] < BAD_QUALITY][-1:]
        after = [r for r in rows if r[0] >= hi and r[2] < BAD_QUALITY][:1]
        window = before + [r for r in rows if lo <= r[0] < hi] + after
        out.append((micros(lo), micros(hi), Window.of([(micros(r[0]), r[1], r[2]) for r in window])))
    return out


def increments(stream: RollupStream) -> tuple[dict, dict]:
    """The stream's hourly and daily rows as {bucket: stats} (what the upsert inserts on an empty table)."""
    hourly, daily = stream.rows()
    by_hour = {row[1]: dict(zip(STAT_NAMES, row[2:], strict=True)) for row in zip(*hourly, strict=True)}
    by_day = {row[1]: dict(zip(STAT_NAMES, row[2:14], strict=True)) for row in zip(*daily, strict=True)}
    return by_hour, by_day


@pytest.mark.parametrize("form", FOLD_FORMS)
@settings(max_examples=200, deadline=None)
@given(
    drawn=st.lists(steps, min_size=1, max_size=80),
    start=st.sampled_from(STARTS),
    zone=st.sampled_from(["Europe/Berlin", "Asia/Kolkata", "America/New_York", "UTC"]),
    cumulative=st.booleans(),
    wraps=st.booleans(),
    seed=st.integers(0, 10_000),
)
def test_increments_of_a_new_point_equal_the_reference(form, drawn, start, zone, cumulative, wraps, seed):
    rng = random.Random(seed)
    rollover = ROLLOVER if wraps else None
    ts, value, rows = start, rng.uniform(0, ROLLOVER - 1), []
    for seconds, change, quality in drawn:
        ts += timedelta(seconds=seconds)
        value = rng.uniform(0, 1) if change == -1e9 else max(value + change, 0.0)
        if rollover is not None and value >= rollover:
            value -= rollover
        rows.append((ts, round(value, 6), quality))
    # windows as the fold cuts them: quarter aligned, from the first reading's quarter on, several of them
    first_q = rows[0][0].replace(minute=rows[0][0].minute // 15 * 15, second=0)
    cuts = [first_q]
    while cuts[-1] <= rows[-1][0]:
        cuts.append(cuts[-1] + timedelta(minutes=15) * rng.randint(1, 200))
    info = PointInfo(1, 1, zone, cumulative, None, MAX_GAP.total_seconds(), rollover)
    stream = RollupStream({1: micros(rows[0][0]) - 1}, {1: (rows[0][0], rows[-1][0])}, {1: info})
    with fold_form(form):
        for lo, hi, window in windows(rows, cuts):
            stream.visit(1, lo, hi, window)
    assert stream.done() == {1}
    hourly, daily = increments(stream)
    rules = {"cumulative": cumulative, "rollover": rollover, "max_gap": MAX_GAP}
    assert_matches(hourly, reference(rows, utc_hour, **rules))
    assert_matches(daily, reference(rows, local_date(zone), **rules))
    for bucket, row in hourly.items():
        inside = [r for r in rows if utc_hour(r[0]) == bucket]
        assert (row["first_ts"], row["last_ts"]) == (
            (inside[0][0], inside[-1][0]) if inside else (None, None)
        )


@pytest.mark.parametrize("form", FOLD_FORMS)
def test_a_window_starting_after_the_last_folded_reading_is_left_to_the_sql_append(form):
    start = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
    rows = [(start + timedelta(minutes=m), 100.0 + m, 0) for m in range(60)]
    info = PointInfo(1, 1, "UTC", True, None, 180.0, None)
    held = micros(rows[9][0])  # folded up to 10:09, but the window read starts at 10:15
    stream = RollupStream({1: held}, {1: (rows[10][0], rows[-1][0])}, {1: info})
    (lo, hi, window), *_ = windows(rows, [start + timedelta(minutes=15), start + timedelta(hours=1)])
    with fold_form(form):
        stream.visit(1, lo, hi, window)
    assert stream.done() == set()
    assert stream.rows() == ([[] for _ in range(14)], [[] for _ in range(16)])


@pytest.mark.parametrize("form", FOLD_FORMS)
def test_only_readings_after_the_last_folded_one_up_to_the_queued_end_count(form):
    start = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
    rows = [(start + timedelta(minutes=m), 100.0 + 2 * m, 0) for m in range(120)]
    info = PointInfo(1, 1, "UTC", True, None, 180.0, None)
    # folded up to 10:29; queued 10:30–11:29; 11:30 on is stored but belongs to a later round
    stream = RollupStream({1: micros(rows[29][0])}, {1: (rows[30][0], rows[89][0])}, {1: info})
    with fold_form(form):
        for window in windows(rows, [start, start + timedelta(minutes=45), start + timedelta(hours=3)]):
            stream.visit(1, *window)
    hourly, _ = increments(stream)
    assert {b: (r["count"], r["consumption"]) for b, r in hourly.items()} == {
        start: (30, 62.0),  # 10:30–10:59, the deltas ending 10:30 (from 10:29) to 11:00 (end - 1 µs)
        start + timedelta(hours=1): (30, 58.0),  # 11:00–11:29: the deltas ending 11:01–11:29
    }
