"""The C encoder of an upload's rows (db/central/ingest/_rows.c) equals the Python forms it replaces."""

import os
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from db.central.ingest import batch
from db.central.ingest.copy_binary import encode_rows

KEYS = [(f"meter-{m}", point) for m in range(4) for point in ("total_kwh", "power_kw")]
POINTS = {key: (100 + n // 2, 1_000 + n) for n, key in enumerate(KEYS)}
ZONES = [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]


def native():
    """The built module; CI must have built it (`pip install -e .` with a C compiler)."""
    if batch.native_rows is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("db/central/ingest/_rows.c is not built: `pip install -e .` found no C compiler")
        pytest.skip("db/central/ingest/_rows.c is not built here")
    return batch.native_rows


readings = st.lists(
    st.tuples(
        st.sampled_from(KEYS),
        st.integers(0, 3 * 24 * 3600 * 10**6),  # microseconds after the start
        st.sampled_from(ZONES),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from([0, 1, 2]),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(
    drawn=readings,
    start=st.sampled_from([datetime(2026, 3, 29, 0, 59, tzinfo=UTC), datetime(1999, 12, 31, tzinfo=UTC)]),
)
def test_copy_rows_equals_the_python_rows_and_spans(drawn, start):
    module = native()
    accepted, shared = [], {}
    for key, us, zone, value, quality in drawn:
        ts = shared.setdefault(
            (us, zone), (start + timedelta(microseconds=us)).astimezone(zone)
        )  # instants repeat
        accepted.append((key, ts, value, "kWh", quality))
    rows, spans = batch._rows_and_spans(accepted, POINTS)
    data, touched = module.copy_rows(accepted, POINTS, batch._pg_micros)
    assert data == encode_rows(rows)
    assert list(touched.items()) == list(spans.items())  # the same order: the points as they first appear
    assert batch._Payload(data, len(rows)).tuples() == rows


def test_a_point_not_in_the_mapping_raises_key_error_as_the_python_form():
    module = native()
    ts = datetime(2026, 5, 1, tzinfo=UTC)
    accepted = [(KEYS[0], ts, 1.0, None, 0), (("meter-new", "total_kwh"), ts, 2.0, None, 0)]
    with pytest.raises(KeyError):
        batch._rows_and_spans(accepted, POINTS)
    with pytest.raises(KeyError):
        module.copy_rows(accepted, POINTS, batch._pg_micros)
