"""Wire formats shared by edge and central (they meet only over GraphQL; these are the payload shapes)."""

from datetime import UTC, datetime, timedelta
from enum import IntEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from db.clock import utcnow

# The limits of one uploaded reading: ReadingIn, the plain path (db/central/ingest/parse.py) and the request decoder
# (api/ingest/decode.py) all check these.
MAX_FUTURE_SKEW = timedelta(minutes=10)
MAX_NAME = 100  # meter_external_id and data_point
MAX_UNIT = 40

# Readings per upload (BATCH_SIZE on both sides): a backlog drains at 0.86 of central's raw ingest in batches of
# 5,000 against 0.69 in batches of 1,000 (docs/ingest.md); 10,000 keeps one request near 1 MB.
DEFAULT_BATCH_SIZE = 5_000
MAX_BATCH_SIZE = 10_000

# The edge agent's upload request; central answers exactly this document without graphql-core (api/ingest/fast.py).
UPLOAD_READINGS_DOCUMENT = """mutation Upload($batch: ReadingBatchInput!) {
  uploadReadings(batch: $batch) {
    __typename
    ... on UploadResult { batchId new duplicates rejected replayed rejections { index reason } }
    ... on UploadRejected { reason }
  }
}"""
OLDEST_ACCEPTED = datetime(2000, 1, 1, tzinfo=UTC)
LARGEST_VALUE = 1.7976931348623157e308  # a JSON number past the largest float decodes to inf: refused


class Quality(IntEnum):
    """Reading quality, from BACnet status flags and reliability."""

    GOOD = 0
    UNCERTAIN = 1  # overridden or out of service
    BAD = 2  # fault or unreliable


QUALITIES = frozenset(int(q) for q in Quality)


class ReadingIn(BaseModel):
    """One reading as the edge uploads it (a JSON object in `uploadReadings`' readings list)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    meter_external_id: str = Field(min_length=1, max_length=MAX_NAME)
    data_point: str = Field(min_length=1, max_length=MAX_NAME)
    timestamp: AwareDatetime
    value: float = Field(allow_inf_nan=False)  # checked in pydantic-core: NaN/±inf are rejected alone
    unit: str | None = Field(default=None, max_length=MAX_UNIT)
    quality: Quality = Quality.GOOD

    @field_validator("timestamp")
    @classmethod
    def _plausible_time(cls, value: datetime, info: ValidationInfo) -> datetime:
        try:
            value = value.astimezone(UTC)
        except OverflowError as err:  # 9999-12-31T23:59-01:00: past the last UTC time there is
            raise ValueError("timestamp outside the years 1-9999 in UTC") from err
        if value < OLDEST_ACCEPTED:
            raise ValueError("timestamp before 2000-01-01")
        # a batch validates with context=validation_context(): one clock read per batch, not per reading
        latest = info.context.get("latest") if info.context else None
        if value > (latest or utcnow() + MAX_FUTURE_SKEW):
            raise ValueError("timestamp more than 10 minutes in the future")
        return value

    def to_wire(self) -> dict:
        """JSON-ready dict in the upload format."""
        return {
            "meter_external_id": self.meter_external_id,
            "data_point": self.data_point,
            "timestamp": self.timestamp.isoformat(),
            "value": self.value,
            "unit": self.unit,
            "quality": int(self.quality),
        }


def validation_context() -> dict:
    """Context for validating many ReadingIn at once: the latest acceptable timestamp, computed once."""
    return {"latest": utcnow() + MAX_FUTURE_SKEW}


def quality_from_status_flags(in_alarm: bool, fault: bool, overridden: bool, out_of_service: bool) -> Quality:
    """Map BACnet statusFlags to a reading quality (fault is bad; overridden/out-of-service uncertain)."""
    if fault:
        return Quality.BAD
    if overridden or out_of_service:
        return Quality.UNCERTAIN
    return Quality.GOOD
