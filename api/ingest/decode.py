"""The edge's usual upload request decoded in one pass with msgspec, each reading checked against db/wire.py's limits.

When every reading passes, db/reading_parse.parse_readings takes them as they are (CheckedReadings); a request
that does not fit, or any reading that fails, returns None and takes the general GraphQL path instead.
"""

from typing import Annotated, Literal

import msgspec

from db.central.ingest.parse import CheckedReadings, plain_time
from db.wire import LARGEST_VALUE, MAX_NAME, MAX_UNIT, QUALITIES, validation_context

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
    batch = {"batchId": request.variables.batch.batchId, "readings": readings}
    decoded = {"query": request.query, "variables": {"batch": batch}}
    if request.operationName is not None:
        decoded["operationName"] = request.operationName
    return decoded
