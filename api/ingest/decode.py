"""The edge's usual upload request decoded in one pass, each reading checked against db/wire.py's limits.

Where api/ingest/_readings.c is built (`native`), the readings array of an upload in the edge's plain shape
is decoded in C into packed records (ColumnReadings: no Python object per reading, ~0.5 µs of the API's CPU
per reading less) and msgspec decodes the rest of the request; any other upload is decoded by msgspec into
typed readings (CheckedReadings), as every upload was before. When every reading passes,
db/central/ingest/parse.parse_readings takes them as they are; a request that does not fit, or any reading
that fails, returns None and takes the general GraphQL path instead.
"""

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from db.central.ingest.parse import EPOCH, MICROSECOND, CheckedReadings, ColumnReadings, plain_time
from db.wire import LARGEST_VALUE, MAX_NAME, MAX_UNIT, QUALITIES, validation_context

try:
    from api.ingest import _readings as native
except ImportError:  # not built (no C compiler at install): every upload is decoded by msgspec
    native = None

_Name = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NAME)]


class _Reading(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    meter_external_id: _Name
    data_point: _Name
    timestamp: str  # parsed once per distinct string by plain_time, as on the plain path
    value: Annotated[float, msgspec.Meta(ge=-LARGEST_VALUE, le=LARGEST_VALUE)]
    unit: Annotated[str, msgspec.Meta(max_length=MAX_UNIT)] | None = None
    quality: Literal[tuple(sorted(QUALITIES))] = 0  # type: ignore[valid-type]


class _Batch(msgspec.Struct, forbid_unknown_fields=True):
    batchId: str
    readings: list[_Reading]


class _Variables(msgspec.Struct, forbid_unknown_fields=True):
    batch: _Batch


class _UploadRequest(msgspec.Struct, forbid_unknown_fields=True):
    query: str
    variables: _Variables
    operationName: str | None = None


_UPLOAD_DECODER = msgspec.json.Decoder(_UploadRequest)


def decode_upload(body: str | bytes) -> dict | None:
    """A GraphQL request `{query, variables: {batch}}` whose readings all pass, as a dict; else None."""
    if ('"readings"' if isinstance(body, str) else b'"readings"') not in body:
        return None
    if native is not None and type(body) is bytes:
        decoded = _decode_native(body)
        if decoded is not None:
            return decoded
    try:
        request = _UPLOAD_DECODER.decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    latest, stamps, readings = validation_context()["latest"], {}, CheckedReadings()
    append = readings.append
    for r in request.variables.batch.readings:
        ts = stamps.get(r.timestamp)
        if ts is None:
            ts = stamps[r.timestamp] = plain_time(r.timestamp, latest)
            if ts is None:
                return None
        append(((r.meter_external_id, r.data_point), ts, r.value, r.unit, r.quality))
    return _as_request(request, readings)


def _as_request(request: _UploadRequest, readings: CheckedReadings | ColumnReadings) -> dict:
    batch = {"batchId": request.variables.batch.batchId, "readings": readings}
    decoded = {"query": request.query, "variables": {"batch": batch}}
    if request.operationName is not None:
        decoded["operationName"] = request.operationName
    return decoded


def _decode_native(body: bytes) -> dict | None:
    """decode_upload with the readings array decoded in C; None when C or msgspec leaves it to msgspec."""
    latest = validation_context()["latest"]

    def micros(text: str) -> int | None:
        ts: datetime | None = plain_time(text, latest)
        return None if ts is None else (ts - EPOCH) // MICROSECOND

    found = native.readings(body, micros)
    if found is None:
        return None
    start, end, keys, key_units, units, records = found
    try:  # the request without its readings: a few hundred bytes
        request = _UPLOAD_DECODER.decode(b"".join((body[:start], b"[]", body[end:])))
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    return _as_request(request, ColumnReadings(keys, key_units, units, records))
