"""Tables of the edge database: meters cache, outbox, recent readings, sync log, dead letters, state.

The outbox is the edge's promise: a reading counts as collected only once committed here, and leaves
only when central has acknowledged it (new or duplicate). The unique (meter, point, ts) index makes a
re-collected instant a no-op instead of a duplicate upload.
"""

from datetime import datetime

from sqlalchemy import JSON, Column, Double, Index, MetaData, SmallInteger, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from db.clock import utcnow
from db.types import BigId, UTCDateTime

edge_metadata = MetaData()


class EdgeTable(SQLModel, registry=registry(metadata=edge_metadata)):
    """Base of every edge table."""


class EdgeMeter(EdgeTable, table=True):
    """A meter this agent polls, from meters.json, central's siteConfig or discovery."""

    __tablename__ = "meters"
    external_id: str = Field(primary_key=True, max_length=100)
    name: str = Field(max_length=200)
    bacnet_device_id: int | None = None
    bacnet_address: str | None = Field(default=None, max_length=64)
    config: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False, default=dict))
    source: str = Field(default="file", max_length=16)
    enabled: bool = True
    reachable: bool | None = None
    last_error: str | None = Field(default=None, max_length=500)
    last_error_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_reading_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OutboxReading(EdgeTable, table=True):
    """A collected reading waiting for central's acknowledgement."""

    __tablename__ = "outbox"
    # (ts, meter, point): acknowledged batches are deleted in id (= time) order, so their index entries are
    # neighbours (migration 0002)
    __table_args__ = (UniqueConstraint("ts", "meter_external_id", "data_point", name="uq_outbox_reading"),)
    # Upload order is id order: the primary key is the only index the uploader needs.
    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    meter_external_id: str = Field(max_length=100)
    data_point: str = Field(max_length=100)
    ts: datetime = Field(sa_type=UTCDateTime)
    value: float = Field(sa_type=Double)
    unit: str | None = Field(default=None, max_length=40)
    quality: int = Field(default=0, sa_type=SmallInteger)
    retry_count: int = 0
    queued_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RecentReading(EdgeTable, table=True):
    """Readings of the last 24 h kept for the local dashboard, whether uploaded or not."""

    __tablename__ = "recent_readings"
    __table_args__ = (
        Index("ix_recent_meter_point_ts", "meter_external_id", "data_point", "ts", unique=True),
    )
    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    meter_external_id: str = Field(max_length=100)
    data_point: str = Field(max_length=100)
    ts: datetime = Field(sa_type=UTCDateTime)
    value: float = Field(sa_type=Double)
    unit: str | None = Field(default=None, max_length=40)
    quality: int = Field(default=0, sa_type=SmallInteger)


class SyncLog(EdgeTable, table=True):
    """One upload attempt and its outcome (kept 30 days)."""

    __tablename__ = "sync_log"
    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    batch_id: str | None = Field(default=None, max_length=80)
    batch_size: int = 0
    new: int = 0
    duplicates: int = 0
    rejected: int = 0
    success: bool = False
    outcome: str = Field(default="ok", max_length=24)
    error_message: str | None = Field(default=None, max_length=1000)


class DeadLetter(EdgeTable, table=True):
    """A reading central rejected, with the reason; kept until someone handles it."""

    __tablename__ = "dead_letters"
    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    meter_external_id: str = Field(max_length=100)
    data_point: str = Field(max_length=100)
    ts: datetime = Field(sa_type=UTCDateTime)
    value: float = Field(sa_type=Double)
    unit: str | None = Field(default=None, max_length=40)
    quality: int = Field(default=0, sa_type=SmallInteger)
    reason: str = Field(max_length=500)
    dead_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    handled: bool = False


class AgentState(EdgeTable, table=True):
    """Small key/value facts that must survive restarts (cached site config, counters)."""

    __tablename__ = "agent_state"
    key: str = Field(primary_key=True, max_length=100)
    value: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False, default=dict))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
