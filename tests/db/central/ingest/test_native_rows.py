"""The C encoder of an upload's rows (db/central/ingest/_rows.c) equals the Python forms it replaces, and uploads
through either store and answer the same on PostgreSQL (new, replayed, overlapping, in a caller's transaction)."""

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from api.ingest import decode
from api.ingest.decode import decode_upload
from db.central.ingest import batch
from db.central.ingest.batch import ingest_batch
from db.central.ingest.copy_binary import encode_rows
from db.central.ingest.parse import EPOCH, MICROSECOND, RECORD, ColumnReadings
from db.clock import utcnow
from db.engine import session_scope
from tests.api.ingest.test_native_readings import native as native_readings
from tests.db.central.ingest.test_reading_parse import upload_body
from tests.support.energy import make_site
from tests.support.native import require_built

KEYS = [(f"meter-{m}", point) for m in range(4) for point in ("total_kwh", "power_kw")]
POINTS = {key: (100 + n // 2, 1_000 + n) for n, key in enumerate(KEYS)}
ZONES = [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]


def native():
    """The built module; CI must have built it (`pip install -e .` with a C compiler)."""
    return require_built(batch.native_rows, "db/central/ingest/_rows.c")


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


def test_rows_come_in_point_and_time_order_with_upload_order_among_equal_keys():
    module = native()
    t0 = datetime(2026, 5, 1, tzinfo=UTC)
    t1 = t0 + timedelta(minutes=1)
    a, b = KEYS[2], KEYS[0]  # point ids 1002 and 1000
    accepted = [  # as an edge sends them: each instant for all its points
        (a, t0, 1.0, None, 0), (b, t0, 2.0, None, 0),
        (a, t1, 3.0, None, 0), (b, t1, 4.0, None, 0),
        (b, t0.astimezone(ZONES[1]), 5.0, None, 0),  # b at t0 again, in another zone: after the first
    ]  # fmt: skip
    want = [
        (1000, t0, 2.0, 0),
        (1000, t0, 5.0, 0),
        (1000, t1, 4.0, 0),
        (1002, t0, 1.0, 0),
        (1002, t1, 3.0, 0),
    ]
    rows, spans = batch._rows_and_spans(accepted, POINTS)
    assert rows == want
    assert list(spans) == [1002, 1000]  # the points as they first appear
    data, _ = module.copy_rows(accepted, POINTS, batch._pg_micros)
    assert batch._Payload(data, len(want)).tuples() == want


def _columns(accepted: list[tuple]) -> ColumnReadings:
    """The readings as api/ingest/_readings.c packs them (times in UTC, as it gives them)."""
    keys, units, records = {}, {}, bytearray()
    key_units = []
    for key, ts, value, unit, quality in accepted:
        if unit is not None:
            units.setdefault(unit, len(units))
        if key not in keys:
            keys[key] = len(keys)
            key_units.append(units[unit] if unit is not None else -1)
        us = (ts - EPOCH) // MICROSECOND
        records += RECORD.pack(us, value, keys[key], units[unit] if unit is not None else -1, quality, 0)
    return ColumnReadings(list(keys), key_units, list(units), bytes(records))


@settings(max_examples=300, deadline=None)
@given(
    drawn=readings,
    start=st.sampled_from([datetime(2026, 3, 29, 0, 59, tzinfo=UTC), datetime(1999, 12, 31, tzinfo=UTC)]),
)
def test_copy_columns_equals_copy_rows(drawn, start):
    native()
    accepted = [
        (key, start + timedelta(microseconds=us), value, "kWh" if quality else None, quality)
        for key, us, _, value, quality in drawn
    ]
    columns = _columns(accepted)
    assert list(columns) == accepted
    payload, touched = batch._copy_rows(columns, POINTS)
    reference, spans = batch._copy_rows(accepted, POINTS)
    assert payload.data == reference.data and len(payload) == len(reference)
    assert list(touched.items()) == list(spans.items())
    with pytest.raises(KeyError):
        batch._copy_rows(_columns([*accepted, (("meter-new", "x"), start, 1.0, None, 0)]), POINTS)
    events = [batch.IngestOutcome("b", accepted=a, points=POINTS).per_meter() for a in (columns, accepted)]
    assert [[(m, i["count"], list(i["latest"].items())) for m, i in e.items()] for e in events] == [
        [(m, i["count"], list(i["latest"].items())) for m, i in events[1].items()]
    ] * 2  # the same counts and newest readings, in the same order


def test_a_point_not_in_the_mapping_raises_key_error_as_the_python_form():
    module = native()
    ts = datetime(2026, 5, 1, tzinfo=UTC)
    accepted = [(KEYS[0], ts, 1.0, None, 0), (("meter-new", "total_kwh"), ts, 2.0, None, 0)]
    with pytest.raises(KeyError):
        batch._rows_and_spans(accepted, POINTS)
    with pytest.raises(KeyError):
        module.copy_rows(accepted, POINTS, batch._pg_micros)


def _start() -> datetime:
    """An hour three days back on the process clock: uploads are checked against it (no later than now)."""
    return (utcnow() - timedelta(days=3)).replace(minute=0, second=0, microsecond=0)


def uploaded(items: list[dict], form: str):
    """The readings as ingest_batch gets them: decoded in C from a request body for the "decoded" form."""
    if form != "decoded":
        return items
    readings = decode_upload(upload_body(items))["variables"]["batch"]["readings"]
    assert type(readings) is ColumnReadings
    return readings


async def _uploads(db, site_id: int, start: datetime, form: str) -> tuple[list[dict], list[tuple]]:
    """A new batch (discovering its points), its replay, an overlapping batch and one inside a caller's
    transaction; the answers and the stored rows (point names instead of ids)."""

    def items(minutes: range, meter: str = "m1") -> list[dict]:
        return [
            {"meter_external_id": meter, "data_point": point, "timestamp": (start + timedelta(minutes=m)).isoformat(),
             "value": float(m), "unit": "kWh", "quality": m % 3}
            for m in minutes for point in ("total_kwh", "export_kwh")
        ]  # fmt: skip

    answers = []
    first = uuid.uuid4().hex
    for batch_id, batch_items in (
        (first, items(range(30))),
        (first, items(range(30))),
        (None, items(range(20, 50))),
    ):
        async with session_scope(db.sessions) as session:
            outcome = await ingest_batch(
                session, site_id, batch_id or uuid.uuid4().hex, uploaded(batch_items, form)
            )
        answers.append(
            {k: v for k, v in outcome.result().items() if k != "batch_id"} | {"replayed": outcome.replayed}
        )
    async with session_scope(db.sessions) as session:
        async with session.begin_nested():  # a caller's transaction: the COPY's savepoint path
            outcome = await ingest_batch(
                session, site_id, uuid.uuid4().hex, uploaded(items(range(45, 60), "m2"), form)
            )
    answers.append({k: v for k, v in outcome.result().items() if k != "batch_id"})
    async with session_scope(db.sessions) as session:
        stored = await session.execute(
            text(
                "SELECT m.external_id, p.name, r.ts, r.value, r.quality FROM readings r "
                "JOIN data_points p ON p.id = r.point_id JOIN meters m ON m.id = p.meter_id "
                "WHERE m.site_id = :site ORDER BY 1, 2, 3"
            ),
            {"site": site_id},
        )
        return answers, [tuple(row) for row in stored]


@pytest.fixture(params=["native", "decoded", "python"])
def form(request, monkeypatch) -> str:
    """Uploads build their COPY rows with the C encoder (from tuples, or from records the C decoder made of
    a request body), or with the Python forms."""
    if request.param == "decoded" and decode.native is None:
        native_readings()
    if request.param in ("native", "decoded"):
        native()
    else:
        monkeypatch.setattr(batch, "native_rows", None)
    return request.param


def test_uploads_store_and_answer_the_same_in_both_forms(own_db, form):
    start = _start()
    answers, stored = own_db.run(_uploads(own_db, own_db.run(make_site(own_db)), start, form))
    assert answers == [
        {"new": 60, "duplicates": 0, "rejected": 0, "rejections": [], "replayed": False},
        {"new": 60, "duplicates": 0, "rejected": 0, "rejections": [], "replayed": True},
        {"new": 40, "duplicates": 20, "rejected": 0, "rejections": [], "replayed": False},
        {"new": 30, "duplicates": 0, "rejected": 0, "rejections": []},
    ]
    want = sorted(
        (meter, point, start + timedelta(minutes=m), float(m), m % 3)
        for meter, minutes in (("m1", range(50)), ("m2", range(45, 60)))
        for m in minutes
        for point in ("total_kwh", "export_kwh")
    )
    assert stored == want


def test_a_key_repeated_in_one_upload_keeps_its_first_value_in_both_forms(own_db, form):
    start = _start()
    site_id = own_db.run(make_site(own_db))

    def item(point: str, minute: int, value: float) -> dict:
        ts = (start + timedelta(minutes=minute)).isoformat()
        return {
            "meter_external_id": "m1",
            "data_point": point,
            "timestamp": ts,
            "value": value,
            "unit": "kWh",
        }

    # the repeated key (total_kwh at minute 0) comes after a later reading of its point and another point's
    items = [item("total_kwh", 0, 1.0), item("total_kwh", 1, 2.0), item("export_kwh", 0, 3.0)]
    items.append(item("total_kwh", 0, 9.0))

    async def upload() -> tuple[dict, list[tuple]]:
        async with session_scope(own_db.sessions) as session:
            outcome = await ingest_batch(session, site_id, uuid.uuid4().hex, uploaded(items, form))
        async with session_scope(own_db.sessions) as session:
            stored = await session.execute(
                text(
                    "SELECT p.name, r.ts, r.value FROM readings r JOIN data_points p ON p.id = r.point_id "
                    "JOIN meters m ON m.id = p.meter_id WHERE m.site_id = :site ORDER BY 1, 2"
                ),
                {"site": site_id},
            )
            return outcome.result(), [tuple(row) for row in stored]

    answer, stored = own_db.run(upload())
    assert (answer["new"], answer["duplicates"]) == (3, 1)
    assert stored == [
        ("export_kwh", start, 3.0),
        ("total_kwh", start, 1.0),
        ("total_kwh", start + timedelta(minutes=1), 2.0),
    ]


def test_copy_columns_joins_the_spans_of_two_keys_of_one_point_as_copy_rows_does():
    native()
    start = datetime(2026, 5, 1, tzinfo=UTC)
    shared = {KEYS[0]: (100, 1_000), KEYS[1]: (100, 1_000)}  # two keys, one point
    accepted = [
        (KEYS[0], start + timedelta(minutes=5), 1.0, None, 0),
        (KEYS[1], start, 2.0, None, 0),
        (KEYS[0], start + timedelta(minutes=1), 3.0, None, 0),
        (KEYS[1], start + timedelta(minutes=9), 4.0, None, 0),
    ]
    payload, touched = batch._copy_rows(_columns(accepted), shared)
    reference, spans = batch._copy_rows(accepted, shared)
    assert payload.data == reference.data
    assert touched == spans == {1_000: (start, start + timedelta(minutes=9))}
