"""Tables of the edge database: meters cache, outbox, recent readings, sync log, dead letters, state.

The outbox is the edge's promise: a reading counts as collected only once committed here, and leaves
only when central has acknowledged it (new or duplicate). The unique (ts, meter, point) key makes a
re-collected instant a no-op instead of a duplicate upload.

SQLAlchemy Core tables, not SQLModel classes: the agent reads rows as they come (attribute access on `Row`)
and never needed ORM objects; sqlmodel and the classes' pydantic and mapper set-up cost the agent's RSS.
"""

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Double,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
)

from db.clock import utcnow
from db.types import BigId, UTCDateTime

edge_metadata = MetaData()


def _reading_columns() -> list[Column]:
    """The columns every table holding a reading shares (a Column belongs to one table: made anew each time)."""
    return [
        Column("id", BigId, primary_key=True),
        Column("meter_external_id", String(100), nullable=False),
        Column("data_point", String(100), nullable=False),
        Column("ts", UTCDateTime, nullable=False),
        Column("value", Double, nullable=False),
        Column("unit", String(40)),
        Column("quality", SmallInteger, nullable=False, default=0),
    ]


# A meter this agent polls, from meters.json, central's siteConfig or discovery.
METERS = Table(
    "meters",
    edge_metadata,
    Column("external_id", String(100), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("bacnet_device_id", Integer),
    Column("bacnet_address", String(64)),
    Column("config", JSON, nullable=False, default=dict),
    Column("source", String(16), nullable=False, default="file"),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("reachable", Boolean),
    Column("last_error", String(500)),
    Column("last_error_at", UTCDateTime),
    Column("last_reading_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False, default=utcnow),
)

# A collected reading waiting for central's acknowledgement. Upload order is id order: the primary key is the
# only index the uploader needs. (ts, meter, point): acknowledged batches are deleted in id (= time) order, so
# their index entries are neighbours (migration 0002).
OUTBOX = Table(
    "outbox",
    edge_metadata,
    *_reading_columns(),
    Column("retry_count", Integer, nullable=False, default=0),
    Column("queued_at", UTCDateTime, nullable=False, default=utcnow),
    UniqueConstraint("ts", "meter_external_id", "data_point", name="uq_outbox_reading"),
)

# Readings of the last 24 h kept for the local dashboard, whether uploaded or not.
RECENT = Table(
    "recent_readings",
    edge_metadata,
    *_reading_columns(),
    Index("ix_recent_meter_point_ts", "meter_external_id", "data_point", "ts", unique=True),
)

# One upload attempt and its outcome (kept 30 days).
SYNC_LOG = Table(
    "sync_log",
    edge_metadata,
    Column("id", BigId, primary_key=True),
    Column("started_at", UTCDateTime, nullable=False, default=utcnow, index=True),
    Column("finished_at", UTCDateTime),
    Column("batch_id", String(80)),
    Column("batch_size", Integer, nullable=False, default=0),
    Column("new", Integer, nullable=False, default=0),
    Column("duplicates", Integer, nullable=False, default=0),
    Column("rejected", Integer, nullable=False, default=0),
    Column("success", Boolean, nullable=False, default=False),
    Column("outcome", String(24), nullable=False, default="ok"),
    Column("error_message", String(1000)),
)

# A reading central rejected, with the reason; kept until someone handles it.
DEAD = Table(
    "dead_letters",
    edge_metadata,
    *_reading_columns(),
    Column("reason", String(500), nullable=False),
    Column("dead_at", UTCDateTime, nullable=False, default=utcnow),
    Column("handled", Boolean, nullable=False, default=False),
)

# Small key/value facts that must survive restarts (cached site config, counters).
STATE = Table(
    "agent_state",
    edge_metadata,
    Column("key", String(100), primary_key=True),
    Column("value", JSON, nullable=False, default=dict),
    Column("updated_at", UTCDateTime, nullable=False, default=utcnow),
)
