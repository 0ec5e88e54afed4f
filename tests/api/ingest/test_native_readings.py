"""The C decoder of an upload's readings (api/ingest/_readings.c) takes only what the msgspec path takes, and
gives the same readings, bit for bit; whatever else it meets, it leaves to msgspec (None) without failing."""

import json
import random
from datetime import timedelta

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.ingest import decode
from db.central.ingest.parse import CheckedReadings, ColumnReadings, first_units, parse_readings
from db.clock import utcnow
from db.wire import UPLOAD_READINGS_DOCUMENT, ReadingIn
from tests.db.central.ingest.test_reading_parse import items, upload_body, usual_items
from tests.support.native import require_built

NOW = utcnow().replace(microsecond=0)


def native():
    """The built module; CI must have built it (`pip install -e .` with a C compiler)."""
    return require_built(decode.native, "api/ingest/_readings.c")


def by_msgspec(body: bytes) -> dict | None:
    """decode_upload as it answers without the C decoder."""
    module, decode.native = decode.native, None
    try:
        return decode.decode_upload(body)
    finally:
        decode.native = module


def exact(readings) -> list[tuple]:
    """Readings with what == would blur spelled out: the zone of each time, each value's bits."""
    return [(key, ts, ts.tzinfo, value.hex(), unit, quality) for key, ts, value, unit, quality in readings]


def assert_alike(body: bytes) -> bool:
    """The C decoder's answer is None or msgspec's, reading for reading; True when it answered."""
    native()
    mine = decode._decode_native(body)
    theirs = by_msgspec(body)
    if mine is None:
        return False
    assert theirs is not None
    readings, reference = mine["variables"]["batch"]["readings"], theirs["variables"]["batch"]["readings"]
    assert type(readings) is ColumnReadings and type(reference) is CheckedReadings
    assert len(readings) == len(reference)
    assert exact(readings) == exact(reference)
    assert first_units(readings) == first_units(reference)
    mine["variables"]["batch"]["readings"] = theirs["variables"]["batch"]["readings"] = None
    assert mine == theirs
    return True


# What an edge sends, and the edges of every limit the decoder checks itself.
ascii_names = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=0, max_size=101)
edge_items = st.fixed_dictionaries(
    {
        "meter_external_id": st.one_of(st.sampled_from(["meter-001", "m", "x" * 100]), ascii_names),
        "data_point": st.sampled_from(["total_kwh", "power_kw", "y" * 101, "", 'a"b', "\\", "é", "\x7f"]),
        "timestamp": st.one_of(
            st.integers(0, 10**6).map(lambda s: (NOW - timedelta(seconds=s)).isoformat()),
            st.sampled_from(
                [
                    (NOW - timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
                    (NOW - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.250+05:30"),
                    (NOW + timedelta(hours=1)).isoformat(),  # too far ahead: refused
                    "1999-12-31T23:59:59+00:00",
                    "2026-13-01T00:00:00+00:00",
                    "not a time",
                ]
            ),
        ),
        "value": st.one_of(
            st.floats(allow_nan=False, allow_infinity=False),
            st.integers(min_value=-(2**64), max_value=2**64),
            st.sampled_from([0, -0.0, 0.1, 1e22, 1e23, 5e-324, 1.7976931348623157e308, 2**53 + 1, -(2**63)]),
        ),
    },
    optional={
        "unit": st.one_of(st.none(), st.sampled_from(["kWh", "kW", "", "u" * 40, "u" * 41])),
        "quality": st.sampled_from([0, 1, 2]),
    },
)

# What an edge sends, each field within every limit: most batches of these take the C decoder.
valid_items = st.fixed_dictionaries(
    {
        "meter_external_id": st.text(  # what JSON may hold without an escape (UTF-8 unless ensure_ascii)
            st.characters(min_codepoint=0x20, exclude_characters='"\\', exclude_categories=("Cs",)),
            min_size=1,
            max_size=100,
        ),
        "data_point": st.sampled_from(["total_kwh", "power_kw", "y" * 100]),
        "timestamp": st.integers(0, 10**8).map(lambda s: (NOW - timedelta(seconds=s / 7)).isoformat()),
        "value": st.one_of(
            st.floats(allow_nan=False, allow_infinity=False),
            st.integers(min_value=-(10**18) + 1, max_value=10**18 - 1),
            st.floats(-1e6, 1e6).map(lambda v: round(v, 3)),
        ),
    },
    optional={
        "unit": st.sampled_from([None, "kWh", "kW", "", "u" * 40]),
        "quality": st.sampled_from([0, 1, 2]),
    },
)


def spelled(batch: list, style: int) -> bytes:
    """An upload body in one of several spellings of the same JSON (UTF-8 as it is, but for style 4)."""
    variables = {"batch": {"batchId": "b-1", "readings": batch}}
    request = {"query": "mutation U($batch: ReadingBatchInput!) { x }", "variables": variables}
    if style == 0:
        return json.dumps(request, ensure_ascii=False).encode()
    if style == 1:
        return json.dumps(request, separators=(",", ":"), ensure_ascii=False).encode()
    if style == 2:
        return json.dumps(request, indent=2, ensure_ascii=False).encode()
    if style == 3:
        reordered = {"variables": {"batch": {"readings": batch, "batchId": "b-1"}}, "query": "q"}
        return json.dumps(reordered, ensure_ascii=False).encode()
    return json.dumps(request).encode()  # anything past ASCII escaped: left to msgspec


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(valid_items, edge_items), max_size=8), st.integers(0, 4))
def test_edge_shaped_uploads_decode_alike(batch, style):
    assert_alike(spelled(batch, style))


@settings(max_examples=300, deadline=None)
@given(st.lists(valid_items, max_size=30), st.integers(0, 3))
def test_uploads_within_every_limit_take_the_c_decoder_alike(batch, style):
    assert assert_alike(spelled(batch, style))


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.lists(items, max_size=12), st.lists(usual_items, max_size=6)))
def test_any_upload_decodes_alike_or_goes_to_msgspec(batch):
    assert_alike(upload_body(batch))


def edge_body(count: int = 40) -> bytes:
    stamps = [(NOW - timedelta(minutes=m)).isoformat() for m in range(count // 4)]
    readings = [
        {
            "meter_external_id": f"meter-{n % 2:03d}",
            "data_point": "total_kwh" if n % 4 < 2 else "power_kw",
            "timestamp": stamps[n // 4],
            "value": n * 1.5 if n % 3 else n,
            "unit": "kWh" if n % 4 < 2 else None,
            "quality": n % 3,
        }
        for n in range(count)
    ]
    return upload_body(readings)


def test_an_edge_upload_takes_the_c_decoder():
    native()
    decoded = decode.decode_upload(edge_body())
    readings = decoded["variables"]["batch"]["readings"]
    assert type(readings) is ColumnReadings and len(readings) == 40
    assert assert_alike(edge_body())
    accepted, refused = parse_readings(readings)
    assert accepted is readings and refused == []
    assert first_units(readings) == {
        ("meter-000", "total_kwh"): "kWh",
        ("meter-001", "total_kwh"): "kWh",
        ("meter-000", "power_kw"): None,
        ("meter-001", "power_kw"): None,
    }


@pytest.mark.parametrize(
    "change",
    [
        (b'"value": 12', b'"value": 12, "value": 13'),  # a repeated key: msgspec keeps the last
        (b'"variables"', b'"variabl\\u0065s"'),  # an escaped key: msgspec reads "variables"
        (b'"meter-000"', b'"meter-\\u0030\\u0030\\u0030"'),  # an escaped name
        (b'"quality": 0', b'"quality": 0.0'),
        (b'"quality": 0', b'"quality": false'),
        (b'"unit": "kWh"', b'"unit": 5'),
        (b'"value": 12', b'"value": 12.5e400'),
        (b'"value": 12', b'"value": "12"'),
        (b'"value": 12', b'"value": 012'),
        (b'"value": 12', b'"value": 12, "extra": 1'),
        (b'"readings": [', b'"readings": [1, '),
    ],
)
def test_anything_unusual_is_left_to_msgspec(change):
    native()
    good = {
        "meter_external_id": "meter-000",
        "data_point": "total_kwh",
        "timestamp": (NOW - timedelta(minutes=1)).isoformat(),
        "value": 12,
        "unit": "kWh",
        "quality": 0,
    }
    body = upload_body([good, good | {"data_point": "power_kw"}])
    assert type(decode.decode_upload(body)["variables"]["batch"]["readings"]) is ColumnReadings
    changed = body.replace(*change)
    assert changed != body
    assert decode._decode_native(changed) is None
    reference = by_msgspec(changed)
    answer = decode.decode_upload(changed)
    assert (answer is None) == (reference is None)
    if reference is not None:
        assert exact(answer["variables"]["batch"]["readings"]) == exact(
            reference["variables"]["batch"]["readings"]
        )


@settings(max_examples=500, deadline=None)
@given(st.randoms(use_true_random=False), st.integers(1, 4))
def test_damaged_bodies_decode_alike_or_go_to_msgspec(rng: random.Random, edits: int):
    body = bytearray(edge_body(12))
    for _ in range(edits):
        if not body:
            break
        at = rng.randrange(len(body))
        kind = rng.randrange(4)
        if kind == 0:
            del body[at : at + rng.randrange(1, 8)]
        elif kind == 1:
            body[at:at] = rng.choice(
                [b'"', b"\\", b",", b"{", b"}", b"[", b"]", b":", b"-", b"0", b"e", b"\x00"]
            )
        elif kind == 2:
            body[at] = rng.randrange(256)
        else:
            del body[at:]
    assert_alike(bytes(body))


def test_a_str_body_an_empty_readings_list_and_a_repeated_batch_id():
    native()
    body = edge_body(4)
    assert assert_alike(body.replace(b'"batchId"', b'"batchId": "x", "batchId"'))  # the last, as msgspec
    assert type(decode.decode_upload(body.decode())["variables"]["batch"]["readings"]) is CheckedReadings
    empty = upload_body([])
    assert assert_alike(empty)
    assert len(decode.decode_upload(empty)["variables"]["batch"]["readings"]) == 0


def test_the_edges_own_encoding_takes_the_c_decoder():
    """The body as the edge's transport writes it (orjson, db/wire.py's upload format and document)."""
    native()
    readings = [
        ReadingIn(
            meter_external_id=f"meter-{n % 3:03d}",
            data_point="total_kwh",
            timestamp=NOW - timedelta(seconds=10 * n, microseconds=n),
            value=value,
            unit="kWh" if n % 2 else None,
            quality=n % 3,
        ).to_wire()
        for n, value in enumerate([0.0, 1234.5, 1e-5, 123456789.123, 1e16, -2.5e-300, 7, 0.1 + 0.2])
    ]
    body = orjson.dumps(
        {"query": UPLOAD_READINGS_DOCUMENT, "variables": {"batch": {"batchId": "b-1", "readings": readings}}}
    )
    assert assert_alike(body)


def test_many_distinct_names_units_and_times_decode_alike():
    """Thousands of keys, units and instants: the decoder's tables grow and still agree with msgspec."""
    readings = [
        {
            "meter_external_id": f"m{n}",
            "data_point": f"p{n % 7}",
            "timestamp": (NOW - timedelta(seconds=n)).isoformat(),
            "value": n / 3,
            "unit": f"u{n % 300}",
            "quality": n % 3,
        }
        for n in range(3000)
    ]
    assert assert_alike(upload_body(readings))


def test_names_and_units_in_utf8_take_the_c_decoder_by_their_length_in_characters():
    """An edge's orjson writes UTF-8 as it is: "°C", "m³", names with accents or beyond the BMP."""
    native()
    good = {
        "meter_external_id": "Zähler-1",
        "data_point": "Wärme 🔥",
        "timestamp": NOW.isoformat(),
        "value": 1.5,
    }
    for unit in ("°C", "m³", "µ" * 40):
        assert assert_alike(
            orjson.dumps(
                {"query": "q", "variables": {"batch": {"batchId": "b", "readings": [good | {"unit": unit}]}}}
            )
        )
    longest = good | {"meter_external_id": "ä" * 100}  # 200 bytes, 100 characters: within the limit
    body = orjson.dumps({"query": "q", "variables": {"batch": {"batchId": "b", "readings": [longest]}}})
    assert assert_alike(body)
    assert decode._decode_native(body.replace("ä".encode(), "ää".encode(), 1)) is None  # 101 characters
    for bad in (b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\xe2\x82"):  # invalid UTF-8
        damaged = body.replace("ä".encode(), bad, 1)
        assert decode._decode_native(damaged) is None
        assert_alike(damaged)
