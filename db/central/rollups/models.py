"""Hourly and daily rollups of readings per data point (kept when raw partitions are dropped)."""

from datetime import date, datetime

from sqlalchemy import JSON, Date, Double, Index, LargeBinary, PrimaryKeyConstraint, SmallInteger
from sqlmodel import Field

from db.central.base import CentralTable
from db.types import BigId, UTCDateTime


class _RollupColumns(CentralTable):
    """Statistics shared by both rollups; consumption is null for instantaneous points."""

    point_id: int = Field(sa_type=BigId)
    count: int = 0
    good_count: int = 0
    min_value: float | None = Field(default=None, sa_type=Double)
    max_value: float | None = Field(default=None, sa_type=Double)
    sum_value: float = Field(default=0.0, sa_type=Double)
    first_ts: datetime | None = Field(default=None, sa_type=UTCDateTime)
    first_value: float | None = Field(default=None, sa_type=Double)
    last_ts: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_value: float | None = Field(default=None, sa_type=Double)
    consumption: float | None = Field(default=None, sa_type=Double)
    reset_count: int = 0
    gap_count: int = 0


class HourlyRollup(_RollupColumns, table=True):
    """One point over one UTC hour [bucket, bucket + 1 h)."""

    __tablename__ = "rollup_hourly"
    __table_args__ = (PrimaryKeyConstraint("point_id", "bucket"),)
    bucket: datetime = Field(sa_type=UTCDateTime)


class DailyRollup(_RollupColumns, table=True):
    """One point over one local day of its site [bucket, bucket_end): 23, 24 or 25 hours."""

    __tablename__ = "rollup_daily"
    __table_args__ = (PrimaryKeyConstraint("point_id", "day"),)
    day: date = Field(sa_type=Date)
    bucket: datetime = Field(sa_type=UTCDateTime)
    bucket_end: datetime = Field(sa_type=UTCDateTime)


class RollupDirty(CentralTable, table=True):
    """Ranges one ingest transaction touched, waiting for the rollup worker: [[lo_us, hi_us, [point_id…]], …].

    One row per upload and rollup part (not per point or hour), so recording is one small insert that never
    conflicts with the workers' claims; times are microseconds since the Unix epoch (UTC).
    """

    __tablename__ = "rollup_dirty"
    __table_args__ = (Index("ix_rollup_dirty_part_id", "part", "id"),)
    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    part: int = Field(default=0, sa_type=SmallInteger)  # db/central/rollups/queue.py ROLLUP_PARTS
    spans: list = Field(sa_type=JSON)
    queued_at: datetime | None = Field(
        default=None, sa_type=UTCDateTime
    )  # the process clock; None before 0014
    # the part's stored rows of the upload when all of it was stored (db/central/rollups/carried.py), else None
    carried: bytes | None = Field(default=None, sa_type=LargeBinary)
