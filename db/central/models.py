"""Tables of the central database (sites, meters, points, readings, batches, users, alerts).

Changes from the original schema, for a fleet writing ~100k readings a minute:
- readings are keyed by (point_id, ts): a replayed upload is a no-op (ON CONFLICT DO NOTHING), and the
  key is also the only index the queries need; no surrogate id (it cost ~35% of insert throughput);
- a reading row is narrow (bigint, timestamptz, double, smallint ≈ 30 bytes + tuple header): meter,
  point name and unit live once in data_points instead of on every row;
- timestamps are timestamptz; values are double precision (meters report IEEE floats anyway);
- on PostgreSQL readings are range-partitioned by ts (see db/central/storage/partitions.py): retention drops whole
  partitions instead of deleting billions of rows.
"""

from datetime import datetime

from sqlalchemy import (
    JSON,
    Column,
    Double,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    UniqueConstraint,
)
from sqlmodel import Field

from db.central.base import CentralTable
from db.clock import utcnow
from db.types import BigId, UTCDateTime


class Site(CentralTable, table=True):
    """One building with one edge agent; authenticated by its API key."""

    __tablename__ = "sites"
    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    name: str = Field(max_length=200, unique=True)
    timezone: str = Field(default="UTC", max_length=64)
    # The key is random (256 bits) so a fast SHA-256 is enough; argon2 per request would cost ~50 ms.
    key_prefix: str = Field(max_length=16, unique=True)
    key_hash: str = Field(max_length=128)
    # A rotated key stays valid until old_key_until or the edge's first use of the new key (db/central/sites.py).
    old_key_prefix: str | None = Field(default=None, max_length=16, unique=True)
    old_key_hash: str | None = Field(default=None, max_length=128)
    old_key_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    is_active: bool = True
    maintenance: bool = False
    status: str = Field(default="unknown", max_length=16)
    last_heartbeat_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Any request of the site's edge (upload, heartbeat, config fetch): what site liveness is decided on.
    last_contact_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    health: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False, default=dict))
    collection_interval_seconds: float = 60.0
    # CIDR strings (db/central/networks.py); empty: the key is accepted from any address.
    allowed_networks: list = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, default=list, server_default="[]")
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Meter(CentralTable, table=True):
    """A BACnet meter at a site, known by its external id (e.g. meter-001)."""

    __tablename__ = "meters"
    __table_args__ = (UniqueConstraint("site_id", "external_id"),)
    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    site_id: int = Field(sa_column=Column(BigId, ForeignKey("sites.id", ondelete="CASCADE"), nullable=False))
    external_id: str = Field(max_length=100)
    name: str = Field(max_length=200)
    bacnet_device_id: int | None = None
    bacnet_address: str | None = Field(default=None, max_length=64)
    enabled: bool = True
    discovered: bool = False
    reachable: bool | None = None
    last_error: str | None = Field(default=None, max_length=500)
    last_seen_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    config: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False, default=dict))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DataPoint(CentralTable, table=True):
    """One BACnet property of a meter that is read (e.g. total_kwh = analog-input 0 present-value)."""

    __tablename__ = "data_points"
    __table_args__ = (UniqueConstraint("meter_id", "name"),)
    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    meter_id: int = Field(
        sa_column=Column(BigId, ForeignKey("meters.id", ondelete="CASCADE"), nullable=False)
    )
    name: str = Field(max_length=100)
    object_type: str = Field(default="analog-input", max_length=40)
    instance: int = 0
    property: str = Field(default="present-value", max_length=40)
    unit: str | None = Field(default=None, max_length=40)
    # cumulative registers (energy) are summed as deltas; instantaneous ones (power) are averaged.
    cumulative: bool = False
    cov: bool = False
    discovered: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class InventoryChange(CentralTable, table=True):
    """One change to a site's meter inventory: a new version, or a proposal whose every edit lost a conflict."""

    __tablename__ = "inventory_changes"
    __table_args__ = (UniqueConstraint("site_id", "version"),)
    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    site_id: int = Field(sa_column=Column(BigId, ForeignKey("sites.id", ondelete="CASCADE"), nullable=False))
    # None when nothing changed (the row keeps the conflicts, so an edge's dropped values stay on record).
    version: int | None = None
    base_version: int | None = None
    origin: str = Field(max_length=32)
    author: str | None = Field(default=None, max_length=254)
    document: list | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    changes: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False, default=list))
    conflicts: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False, default=list))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Reading(CentralTable, table=True):
    """One value of one data point at one instant; the natural key makes replays no-ops."""

    __tablename__ = "readings"
    __table_args__ = (PrimaryKeyConstraint("point_id", "ts"),)
    # No foreign key: it would cost a lookup per inserted row; ingest resolves point ids itself.
    point_id: int = Field(sa_type=BigId)
    ts: datetime = Field(sa_type=UTCDateTime)
    value: float = Field(sa_type=Double)
    quality: int = Field(default=0, sa_type=SmallInteger)


class UploadBatch(CentralTable, table=True):
    """An accepted upload, remembered so a replayed batch id gets the same answer."""

    __tablename__ = "upload_batches"
    __table_args__ = (PrimaryKeyConstraint("site_id", "batch_id"),)
    site_id: int = Field(sa_type=BigId)
    batch_id: str = Field(max_length=80)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    reading_count: int = 0
    result: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False, default=dict))


class User(CentralTable, table=True):
    """A person who logs in to the central dashboard."""

    __tablename__ = "users"
    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    email: str = Field(max_length=254, unique=True)
    password_hash: str = Field(max_length=200)
    role: str = Field(default="viewer", max_length=16)
    is_active: bool = True
    # Carried in every token ("ver"); a password change, reset or logout bumps it, ending older tokens.
    token_version: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, default=0, server_default="0")
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SiteGrant(CentralTable, table=True):
    """A user's role at one site: "manager" (read and manage) or "viewer" (read); admins need none."""

    __tablename__ = "site_grants"
    __table_args__ = (PrimaryKeyConstraint("user_id", "site_id"),)
    user_id: int = Field(sa_column=Column(BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False))
    site_id: int = Field(
        sa_column=Column(BigId, ForeignKey("sites.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    role: str = Field(default="viewer", max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LoginFailure(CentralTable, table=True):
    """Failed logins of one account or client address, shared by every API worker (api/login_guard.py).

    Times are POSIX seconds of the deployable's clock: workers share no monotonic clock.
    """

    __tablename__ = "login_failures"
    __table_args__ = (PrimaryKeyConstraint("scope", "ident"),)
    scope: str = Field(max_length=8)
    ident: str = Field(max_length=320)
    failures: int = 0
    last_failure: float = 0.0
    next_allowed: float = 0.0
    locked_until: float = 0.0


class AlertRule(CentralTable, table=True):
    """A condition watched by the alert engine (e.g. heartbeat missing > 10 minutes)."""

    __tablename__ = "alert_rules"
    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    kind: str = Field(max_length=40)
    site_id: int | None = Field(
        default=None, sa_column=Column(BigId, ForeignKey("sites.id", ondelete="CASCADE"), nullable=True)
    )
    enabled: bool = True
    threshold: float = 0.0
    severity: str = Field(default="warning", max_length=16)
    pending_seconds: float = 0.0
    recipients: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False, default=list))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Alert(CentralTable, table=True):
    """One occurrence of a rule's condition, from open to resolved."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_open", "resolved_at", "opened_at"),)
    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    rule_id: int | None = Field(
        default=None,
        sa_column=Column(BigId, ForeignKey("alert_rules.id", ondelete="SET NULL"), nullable=True),
    )
    site_id: int | None = Field(
        default=None, sa_column=Column(BigId, ForeignKey("sites.id", ondelete="CASCADE"), nullable=True)
    )
    meter_id: int | None = Field(default=None, sa_type=BigId)
    kind: str = Field(max_length=40)
    severity: str = Field(default="warning", max_length=16)
    message: str = Field(max_length=1000)
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledged_by: str | None = Field(default=None, max_length=254)
    acknowledged_note: str | None = Field(default=None, max_length=1000)
    # Set when a person closed the alert by hand (None: the engine resolved it when its condition cleared).
    resolved_by: str | None = Field(default=None, max_length=254)
