"""Property test: the fold's lean quarters (Python and C) equal quarter_parts' stored figures, exactly."""

import struct
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from db.central import energy_fold
from db.central.energy_fold import Q_US, Window, micros, unpack_window, window_quarters
from db.central.energy_parts import QUARTER, quarter_floor, quarter_parts
from db.energy import BAD_QUALITY, RESET_FRACTION
from tests.db.energy.test_consumption_rules import history, steps
from tests.support.energy import FOLD_FORMS, fold_form

ROLLOVER = 10_000.0
STARTS = (datetime(2026, 3, 28, 23, 7, 13, 250, tzinfo=UTC), datetime(2026, 3, 28, 23, 0, tzinfo=UTC))


def stored(part) -> tuple:
    """The columns energy_summary writes for a part."""
    figures = (part.count, part.flagged, part.usable, part.vsum, part.vmin, part.vmax, part.first_value)
    return (part.start, part.whole, *figures, part.last_value, part.consumption, part.span, part.longest)


@pytest.mark.parametrize("form", FOLD_FORMS)
@settings(max_examples=300, deadline=None)
@given(
    drawn=st.lists(steps, min_size=0, max_size=80),
    value=st.floats(0, ROLLOVER - 1, allow_nan=False),
    cumulative=st.booleans(),
    rollover=st.sampled_from([None, ROLLOVER]),
    cut=st.tuples(st.integers(0, 90), st.integers(0, 90)),
    start=st.sampled_from(STARTS),  # readings between quarters, or on their bounds
)
def test_fold_quarters_equal_quarter_parts(form, drawn, value, cumulative, rollover, cut, start):
    rows = history(drawn, start, value, rollover)
    lo = quarter_floor(start + cut[0] * timedelta(minutes=5))
    hi = max(lo, quarter_floor(start + cut[1] * timedelta(minutes=30))) + QUARTER
    usable_before = [r for r in rows if r.ts < lo and r.quality < BAD_QUALITY][-1:]
    usable_after = [r for r in rows if r.ts >= hi and r.quality < BAD_QUALITY][:1]
    window = usable_before + [r for r in rows if lo <= r.ts < hi] + usable_after  # as the fold reads it
    want = [stored(p) for p in quarter_parts(window, lo, hi, cumulative=cumulative, rollover=rollover)]
    rows = Window.of([(micros(r.ts), r.value, r.quality) for r in window])
    with fold_form(form):
        got = window_quarters(rows, micros(lo), micros(hi), cumulative=cumulative, rollover=rollover)
    assert [(start, whole, *figures) for start, whole, figures in got] == want


@given(
    rows=st.lists(
        st.tuples(
            st.datetimes(datetime(1990, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC)),
            st.floats(allow_nan=False, allow_infinity=False),
            st.integers(0, 2),
        ),
        max_size=20,
    )
)
def test_unpack_window_reads_postgresql_binary_forms_exactly(rows):
    pg_epoch = datetime(2000, 1, 1, tzinfo=UTC)
    stamps = b"".join(struct.pack("!q", (ts - pg_epoch) // timedelta(microseconds=1)) for ts, _, _ in rows)
    values = b"".join(struct.pack("!d", v) for _, v, _ in rows)
    qualities = b"".join(struct.pack("!h", q) for _, _, q in rows)
    got = unpack_window(stamps, values, qualities)
    assert got == ([micros(ts) for ts, _, _ in rows], [v for _, v, _ in rows], [q for _, _, q in rows])


@pytest.mark.parametrize("form", FOLD_FORMS)
def test_a_window_out_of_order_is_sorted_before_folding(form):
    rows = [(micros(STARTS[1]) + minute * 60_000_000, float(minute), minute % 3) for minute in range(40)]
    shuffled = Window.of(rows[::2] + rows[1::2])  # string_agg promises no order
    with fold_form(form):
        assert shuffled.in_order().lists() == tuple(map(list, zip(*rows, strict=True)))
        window = Window.of(rows)
        assert window.in_order() is window


def test_the_native_loop_refuses_bounds_off_the_quarter_hour():
    # the fold's windows are quarter-hour bounds; a reading in a partial last quarter would have no row
    with fold_form("native"):
        native = energy_fold.native
        for lo, hi in ((0, Q_US + 1), (1, Q_US)):
            with pytest.raises(ValueError, match="quarter-hour"):
                native.quarters(b"", b"", b"", lo, hi, True, None, RESET_FRACTION)
            with pytest.raises(ValueError, match="quarter-hour"):
                native.quarters_copy(bytearray(), 1, b"", b"", b"", lo, hi, True, None, RESET_FRACTION)
