"""Custom scalars: ReadingRows, the upload's readings as one JSON value (validated per item by pydantic), and
DateTime as Strawberry's with times that have no UTC form refused."""

from datetime import UTC, datetime
from typing import Any, NewType

import dateutil.parser
import strawberry
from strawberry.schema.types.base_scalars import DateTimeDefinition, wrap_parser
from strawberry.types.scalar import ScalarDefinition

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


def _parse_datetime(text: str) -> datetime:
    value = dateutil.parser.isoparse(text)  # Strawberry's own parser
    if value.tzinfo is not None:
        try:
            value.astimezone(UTC)
        except OverflowError as err:  # 9999-12-31T23:59-01:00: every query converts it, and would fail there
            raise ValueError("it has no UTC form (outside the years 1-9999 in UTC)") from err
    return value


DateTime = ScalarDefinition(
    name=DateTimeDefinition.name,
    description=DateTimeDefinition.description,
    specified_by_url=None,
    serialize=DateTimeDefinition.serialize,
    parse_value=wrap_parser(_parse_datetime, "DateTime"),
    parse_literal=None,
    origin=datetime,
)
