"""The plain validation path of uploads agrees with ReadingIn item by item (pydantic is the reference)."""

import json
import math
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from api.ingest.decode import decode_upload
from db.central.ingest.parse import CheckedReadings, ColumnReadings, first_units, parse_readings
from db.clock import utcnow
from db.wire import ReadingIn, validation_context

NOW = utcnow().replace(microsecond=0)
# Generated times straddle the clock's now (the 10-minute future limit) on whatever day the tests run.
LATEST = (NOW + timedelta(days=3 * 365)).replace(tzinfo=None)
RECENT = (NOW - timedelta(days=6 * 365)).replace(tzinfo=None)


def reference(item) -> tuple | None:
    """What ReadingIn makes of one item, in parse_readings' shape, or None when it refuses it."""
    try:
        r = ReadingIn.model_validate(item, context=validation_context())
    except (ValidationError, TypeError, ValueError):
        return None
    return (r.meter_external_id, r.data_point), r.timestamp, r.value, r.unit, int(r.quality)


stamps = st.one_of(
    st.datetimes(min_value=datetime(1999, 12, 1), max_value=LATEST, timezones=st.timezones()).map(
        lambda d: d.isoformat()
    ),
    st.datetimes(min_value=RECENT, max_value=LATEST).map(lambda d: d.isoformat()),
    st.sampled_from(
        [
            (NOW - timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
            (NOW - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S+05:30"),
            (NOW - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S.123+00:00"),
            (NOW - timedelta(hours=1)).strftime("%Y%m%dT%H%M%SZ"),  # basic format: ReadingIn decides
            "2026-W01-1T00:00:00+00:00",
            "2026-11-27",
            "",
            "not a time",
        ]
    ),
    st.integers(min_value=0, max_value=2**31),
    st.none(),
)
values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**60), max_value=2**60),
    st.booleans(),
    st.sampled_from(["1.5", "NaN", "", None, [1.0]]),
)
names = st.one_of(st.text(max_size=110), st.integers(), st.none())
items = st.one_of(
    st.fixed_dictionaries(
        {"meter_external_id": names, "data_point": names, "timestamp": stamps, "value": values},
        optional={
            "unit": st.one_of(st.none(), st.text(max_size=45), st.integers()),
            "quality": st.one_of(st.integers(min_value=-1, max_value=3), st.booleans(), st.just("0")),
            "extra": st.just(1),
        },
    ),
    st.lists(st.integers(), max_size=2),
    st.text(max_size=5),
    st.none(),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(items, max_size=12))
def test_each_item_is_accepted_or_refused_as_readingin_would(batch):
    accepted, rejections = parse_readings(batch)
    expected = [reference(item) for item in batch]
    assert accepted == [r for r in expected if r is not None]
    assert [r["index"] for r in rejections] == [i for i, r in enumerate(expected) if r is None]
    assert all(r["reason"] for r in rejections)
    assert set(first_units(accepted)) == {r[0] for r in accepted}


def test_usual_items_are_normalised_to_utc_and_first_unit_wins():
    items = [
        {
            "meter_external_id": "m1",
            "data_point": "total_kwh",
            "timestamp": "2026-11-27T10:00:00+01:00",
            "value": 5,
            "unit": "kWh",
            "quality": 1,
        },
        {
            "meter_external_id": "m1",
            "data_point": "total_kwh",
            "timestamp": "2026-11-27T09:01:00Z",
            "value": 6.5,
        },
    ]
    accepted, rejections = parse_readings(items)
    assert rejections == []
    assert accepted[0] == (("m1", "total_kwh"), datetime(2026, 11, 27, 9, tzinfo=UTC), 5.0, "kWh", 1)
    assert accepted[1][1:] == (datetime(2026, 11, 27, 9, 1, tzinfo=UTC), 6.5, None, 0)
    assert type(accepted[0][2]) is float and accepted[0][1].tzinfo is UTC
    assert first_units(accepted) == {("m1", "total_kwh"): "kWh"}


def test_refusals_keep_their_index_and_say_why():
    good = {"meter_external_id": "m", "data_point": "p", "timestamp": NOW.isoformat(), "value": 1.0}
    future = (NOW + timedelta(hours=1)).isoformat()
    batch = [good, {**good, "value": math.nan}, {**good, "timestamp": future}, {**good, "quality": 7}, good]
    accepted, rejections = parse_readings(batch)
    assert len(accepted) == 2
    assert [r["index"] for r in rejections] == [1, 2, 3]
    assert "finite" in rejections[0]["reason"] and "future" in rejections[1]["reason"]


# Mostly acceptable items, so that the typed decode takes many batches, with the edges of every limit.
usual_items = st.fixed_dictionaries(
    {
        "meter_external_id": st.text(min_size=1, max_size=101),
        "data_point": st.sampled_from(["total_kwh", "power_kw", "x" * 100, "y" * 101, ""]),
        "timestamp": st.datetimes(
            min_value=datetime(1999, 12, 31), max_value=LATEST, timezones=st.timezones()
        ).map(lambda d: d.isoformat()),
        "value": st.one_of(st.floats(allow_nan=False), st.integers(min_value=-(2**70), max_value=2**70)),
    },
    optional={
        "unit": st.one_of(st.none(), st.text(max_size=41)),
        "quality": st.one_of(st.integers(min_value=0, max_value=3), st.booleans()),
    },
)


def upload_body(batch) -> bytes:
    """An uploadReadings request as an edge (or anyone) would send it."""
    variables = {"batch": {"batchId": "b-1", "readings": batch}}
    return json.dumps(
        {"query": "mutation U($batch: ReadingBatchInput!) { x }", "variables": variables}
    ).encode()


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.lists(items, max_size=12), st.lists(usual_items, max_size=6)))
def test_the_typed_decode_takes_a_batch_only_when_the_general_path_accepts_all_of_it_alike(batch):
    body = upload_body(batch)
    decoded = decode_upload(body)
    general = parse_readings(json.loads(body)["variables"]["batch"]["readings"])
    if decoded is None:
        return  # the general path answers it (a test above holds it to ReadingIn)
    readings = decoded["variables"]["batch"]["readings"]
    assert type(readings) in (CheckedReadings, ColumnReadings)  # msgspec's, or api/ingest/_readings.c's
    assert general[1] == []
    accepted, refused = parse_readings(readings)
    assert (list(accepted), refused) == general
    assert decoded["variables"]["batch"]["batchId"] == "b-1"


def test_an_edge_batch_takes_the_typed_decode_and_anything_unusual_does_not():
    good = {
        "meter_external_id": "meter-001",
        "data_point": "total_kwh",
        "timestamp": (NOW - timedelta(minutes=1)).isoformat(),
        "value": 12,
        "unit": "kWh",
        "quality": 0,
    }
    decoded = decode_upload(upload_body([good, {**good, "data_point": "power_kw", "unit": None}]))
    assert decoded is not None and decoded["query"].startswith("mutation")
    assert list(parse_readings(decoded["variables"]["batch"]["readings"])[0])[0][2] == 12.0
    future = (NOW + timedelta(hours=1)).isoformat()
    for odd in ({**good, "value": True}, {**good, "timestamp": future}, {**good, "extra": 1}, [1]):
        assert decode_upload(upload_body([good, odd])) is None
    assert decode_upload(b'{"query": "{ sites { id } }"}') is None
    repeated = upload_body([good]).replace(b'"value": 12', b'"value": 12, "value": 13')  # the last one counts
    assert list(parse_readings(decode_upload(repeated)["variables"]["batch"]["readings"])[0])[0][2] == 13.0
    assert (
        decode_upload(b'{"query": "q", "variables": {"batch": {"batchId": "b", "readings": []}, "x": 1}}')
        is None
    )


def test_a_time_with_no_utc_form_is_refused_with_its_reason():
    """9999-12-31 late in a zone west of UTC, or 0001-01-01 early east of it, lies outside datetime's range
    in UTC: refused as that reading's fault, not an error of the whole upload."""
    good = {"meter_external_id": "m", "data_point": "p", "timestamp": NOW.isoformat(), "value": 1.0}
    odd = [
        good | {"timestamp": "9999-12-31T23:59:59-23:59"},
        good | {"timestamp": "0001-01-01T00:00:00+23:59"},
    ]
    accepted, rejections = parse_readings([good, *odd])
    assert [r[0] for r in accepted] == [("m", "p")]
    assert [r["index"] for r in rejections] == [1, 2]
    assert all("outside the years 1-9999" in r["reason"] for r in rejections)
    assert decode_upload(upload_body([good, *odd])) is None  # the general path answers it
