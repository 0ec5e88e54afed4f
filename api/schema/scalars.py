"""Custom scalars: ReadingRows, the upload's readings as one JSON value (validated per item by pydantic)."""

from typing import Any, NewType

import strawberry

READING_ROWS_DESCRIPTION = (
    "A JSON list of readings, each an object "
    '{"meter_external_id": str, "data_point": str, "timestamp": ISO-8601 with zone, '
    '"value": finite number, "unit": str or null, "quality": 0 good | 1 uncertain | 2 bad}. '
    'Example: [{"meter_external_id": "meter-001", "data_point": "total_kwh", '
    '"timestamp": "2025-01-01T00:00:00+00:00", "value": 1234.5, "unit": "kWh", "quality": 0}]. '
    "Each item is validated alone: a bad item is rejected with its index and reason, the others are stored."
)


def _parse_rows(value: Any) -> Any:
    # Kept as plain JSON: per-item validation in db.central.ingest.batch is ~15x cheaper than Strawberry input objects.
    return value


ReadingRows = strawberry.scalar(
    NewType("ReadingRows", object),
    name="ReadingRows",
    description=READING_ROWS_DESCRIPTION,
    serialize=lambda value: value,
    parse_value=_parse_rows,
)
