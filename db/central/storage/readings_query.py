"""Readings of one data point over a time range, raw or averaged per minute, one page at a time.

Hour and day buckets (and a cumulative register's minutes) are the energy query's
(db/central/energy_query.py; ReadingRow.from_energy): api/services/readings.py routes them there (see
docs/energy-data.md).

Pages are keyed by time: the cursor is the last row's (bucket) timestamp, so a page costs one index range
scan on (point_id, ts) however deep the caller has paged.
"""

import base64
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.central.models import Reading
from db.energy import BAD_QUALITY, EnergyBucket

RESOLUTIONS = ("raw", "minute", "hour", "day")  # of the readings query; this module reads the first two
SQL_RESOLUTIONS = RESOLUTIONS[:2]
_BEFORE = timedelta(microseconds=1)
MAX_PAGE = 10_000


class ReadingRow(BaseModel):
    """A raw reading, or one bucket: the mean with min, max and count; a cumulative register's consumption."""

    model_config = ConfigDict(frozen=True)

    ts: datetime = Field(description="the reading's time, or the bucket's start")
    value: float | None = Field(
        description="the reading; per bucket the mean, or for a cumulative register the consumption in it "
        "(null when no usable reading tells it)"
    )
    min: float | None = None
    max: float | None = None
    count: int | None = None
    quality: int | None = Field(default=None, description="0 good, 1 uncertain (estimated or partial), 2 bad")
    consumption: float | None = Field(
        default=None, description="cumulative registers above RAW: use in the bucket (edges split by time)"
    )
    first_value: float | None = Field(default=None, description="cumulative registers: first register value")
    last_value: float | None = Field(default=None, description="cumulative registers: last register value")
    completeness: float | None = Field(
        default=None, description="cumulative registers: share of the bucket up to now the readings cover"
    )

    @classmethod
    def from_energy(cls, bucket: EnergyBucket, cumulative: bool) -> "ReadingRow":
        """An energy query bucket: a cumulative register's consumption with its first/last, else the mean."""
        register = {name: getattr(bucket, name) for name in _REGISTER_FIELDS} if cumulative else {}
        return cls(
            ts=bucket.start,
            value=bucket.consumption if cumulative else bucket.mean,
            min=bucket.min,
            max=bucket.max,
            count=bucket.count,
            quality=bucket.quality,
            **register,
        )


_REGISTER_FIELDS = ("consumption", "first_value", "last_value", "completeness")


class RawRow(NamedTuple):
    """A raw reading as the raw page returns it: ReadingRow's first six fields, the rest read as absent."""

    # A tuple, not a model: a 24 h raw page builds 1,440 to 10,000 rows; a pydantic row costs ~2 µs more each.
    # Readers take fields by name (GraphQL from_pydantic and the CSV use getattr with None for the others).

    ts: datetime
    value: float
    min: float | None = None
    max: float | None = None
    count: int | None = None
    quality: int | None = None


assert RawRow._fields == tuple(ReadingRow.model_fields)[: len(RawRow._fields)]  # one record, two shapes


def as_models(rows: list[ReadingRow | RawRow]) -> list[ReadingRow]:
    """A page's rows as ReadingRow models, for callers that validate them (MCP)."""
    return [r if isinstance(r, ReadingRow) else ReadingRow(**r._asdict()) for r in rows]


def encode_cursor(ts: datetime) -> str:
    """Opaque cursor for a page boundary."""
    return base64.urlsafe_b64encode(ts.astimezone(UTC).isoformat().encode()).decode()


def decode_cursor(cursor: str) -> datetime:
    """The timestamp inside a cursor; ValueError when it is not one of ours."""
    try:
        ts = datetime.fromisoformat(base64.urlsafe_b64decode(cursor.encode()).decode())
    except (ValueError, UnicodeDecodeError) as err:
        raise ValueError("invalid cursor") from err
    if ts.tzinfo is None:
        raise ValueError("invalid cursor")
    return ts


def _as_utc(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


RAW_PAGE_SQL = """SELECT ts, value, NULL::float8, NULL::float8, NULL::int, quality FROM readings
WHERE point_id = $1 AND ts >= $2 AND ts < $3 AND ts > $4 ORDER BY ts LIMIT $5"""
_row = tuple.__new__


async def _raw(session, point_id, start, end, after, first) -> list[RawRow]:
    if session.bind.dialect.driver == "asyncpg":
        # Straight from the driver: the rows come back as the page's tuples (no ORM result processing).
        driver = (await (await session.connection()).get_raw_connection()).driver_connection
        rows = await driver.fetch(RAW_PAGE_SQL, point_id, start, end, after or start - _BEFORE, first + 1)
        return [_row(RawRow, row) for row in rows]
    query = select(Reading.ts, Reading.value, Reading.quality).where(
        Reading.point_id == point_id, Reading.ts >= start, Reading.ts < end
    )
    if after is not None:
        query = query.where(Reading.ts > after)
    rows = await session.execute(query.order_by(Reading.ts).limit(first + 1))
    return [RawRow(ts=ts, value=value, quality=quality) for ts, value, quality in rows]


def _minute(session: AsyncSession):
    if session.bind.dialect.name == "postgresql":
        return func.date_trunc("minute", Reading.ts, "UTC")  # every zone's offset is whole minutes
    return func.strftime("%Y-%m-%d %H:%M:00", Reading.ts)


async def _minutes(session, point_id, start, end, after, first) -> list[ReadingRow]:
    """An instantaneous point's minutes: mean, min and max of the usable readings, the count of all (as the
    energy query's hours and days: a bad reading is counted and flags its bucket, but says nothing of it)."""
    bucket = _minute(session).label("bucket")
    usable = Reading.quality < BAD_QUALITY
    inner = select(
        bucket,
        func.avg(Reading.value).filter(usable).label("value"),
        func.min(Reading.value).filter(usable).label("min"),
        func.max(Reading.value).filter(usable).label("max"),
        func.count().label("count"),
        func.max(Reading.quality).label("quality"),
        func.min(Reading.quality).label("best"),
    ).where(Reading.point_id == point_id, Reading.ts >= start, Reading.ts < end)
    if after is not None:
        inner = inner.where(Reading.ts > after)
    sub = inner.group_by(literal_column("bucket")).subquery()
    query = select(sub)
    if after is not None:
        after_key = (
            after if session.bind.dialect.name == "postgresql" else after.strftime("%Y-%m-%d %H:%M:%S")
        )
        query = query.where(sub.c.bucket > after_key)
    rows = await session.execute(query.order_by(sub.c.bucket).limit(first + 1))
    return [
        ReadingRow(
            ts=_as_utc(b),
            value=None if v is None else float(v),
            min=lo,
            max=hi,
            count=int(n),
            quality=_quality(worst, best),
        )
        for b, v, lo, hi, n, worst, best in rows
    ]


def _quality(worst: int, best: int) -> int:
    """A bucket is bad only when all its readings were; any mix or estimated reading is uncertain."""
    return 0 if worst == 0 else (2 if best >= 2 else 1)


async def query_readings(
    session: AsyncSession,
    point_id: int,
    start: datetime,
    end: datetime,
    resolution: str = "raw",
    first: int = 1000,
    after: str | None = None,
) -> tuple[list[ReadingRow], str | None]:
    """One page of raw or per-minute rows in [start, end) and the cursor of the next page (None on the last)."""
    if resolution not in SQL_RESOLUTIONS:
        raise ValueError(
            f"resolution must be one of {', '.join(SQL_RESOLUTIONS)} here; "
            "hour and day buckets come from the energy query (api/services/readings.py)"
        )
    if not 1 <= first <= MAX_PAGE:
        raise ValueError(f"first must be between 1 and {MAX_PAGE}")
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must carry a time zone")
    if end <= start:
        raise ValueError("end must be after start")
    after_ts = decode_cursor(after) if after else None
    if resolution == "raw":
        rows = await _raw(session, point_id, start, end, after_ts, first)
    else:
        rows = await _minutes(session, point_id, start, end, after_ts, first)
    if len(rows) > first:
        rows = rows[:first]
        return rows, encode_cursor(rows[-1].ts)
    return rows, None
