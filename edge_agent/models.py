"""Return types of the control service (EdgeAgent): what the local API, the dashboard and MCP tools show."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from db.inventory import InventoryMeter
from db.inventory_history import InventoryConflictEntry, InventoryHistoryEntry


class MeterStatus(BaseModel):
    """A configured meter and its health as the collector sees it."""

    external_id: str
    name: str
    bacnet_device_id: int | None
    bacnet_address: str | None
    enabled: bool
    source: str
    reachable: bool | None
    last_error: str | None
    last_error_at: datetime | None
    last_seen_at: datetime | None
    data_points: list[str]
    device_profile: dict[str, Any] | None = Field(
        default=None,
        description="what the collector learnt about the device: RPM, batch size, timeout, retries, ...",
    )


class AgentStatus(BaseModel):
    """The agent's state: collection, queue, central link (also what the heartbeat reports)."""

    agent_version: str
    collecting: bool
    collection_interval_seconds: float
    meters_total: int
    meters_reachable: int
    collection_success_rate: float | None
    queue_depth: int
    queue_head_attempts: int = 0  # unacknowledged upload attempts of the oldest queued reading
    oldest_queued_age_seconds: float | None
    outbox_full: bool
    outbox_full_policy: str
    dead_letter_count: int
    central_state: str
    central_detail: str | None
    central_unreachable_seconds: float | None
    central_outage_since: datetime | None
    central_outage_alerting: bool
    sync_success_rate: float | None
    last_sync_at: datetime | None
    last_heartbeat_at: datetime | None
    site_name: str | None
    site_timezone: str | None = None  # IANA name from siteConfig; None until the edge has heard it
    simulated_from: datetime | None = None  # span of simulated (demo) history in the outbox
    simulated_until: datetime | None = None
    bbmd_address: str | None = None
    bbmd_state: str | None = None
    bbmd_registered_at: datetime | None = None


class EdgeAlertEntry(BaseModel):
    """An alert the edge raised itself (edge_agent/edge_alerts.py): open while ended_at is null."""

    kind: str = Field(description="central_unreachable | meter_unreachable | edge_queue")
    meter: str | None
    started_at: datetime
    ended_at: datetime | None
    message: str


class ReadingRow(BaseModel):
    """One locally kept reading."""

    meter_external_id: str
    data_point: str
    ts: datetime
    value: float
    unit: str | None
    quality: int


class SyncLogEntry(BaseModel):
    """One upload attempt."""

    started_at: datetime
    finished_at: datetime | None
    batch_id: str | None
    batch_size: int
    new: int
    duplicates: int
    rejected: int
    success: bool
    outcome: str
    error_message: str | None


class DeadLetterEntry(BaseModel):
    """A reading central rejected, with the reason."""

    id: int
    meter_external_id: str
    data_point: str
    ts: datetime
    value: float
    unit: str | None
    reason: str
    dead_at: datetime


class SyncSummary(BaseModel):
    """Outcome of a sync cycle started on demand."""

    outcome: str
    batches: int
    acknowledged: int
    new: int
    duplicates: int
    rejected: int
    queue_depth: int
    errors: list[str]


class DiscoveredObject(BaseModel):
    """An object found on a device."""

    object_type: str
    instance: int
    name: str
    units: str | None
    present_value: float | None


class DiscoveredDevice(BaseModel):
    """A device that answered Who-Is, with its objects."""

    address: str
    device_id: int
    name: str
    objects: list[DiscoveredObject]


class PointReading(BaseModel):
    """A value read on demand by test_read."""

    name: str
    value: float
    unit: str | None
    quality: int


class TestReadResult(BaseModel):
    """Outcome of test_read: the values read, or why nothing could be read."""

    meter: str
    address: str
    ok: bool
    error: str | None
    point_errors: dict[str, str]
    values: list[PointReading]
    elapsed_ms: float


class InventoryView(BaseModel):
    """The site's meter inventory as this agent runs it (edge_agent/inventory.py), with central's history."""

    version: int | None = Field(description="central's version last applied; null before first contact")
    pending: bool = Field(description="a change made here that central has not answered yet")
    pending_origin: str | None = None
    digest: str
    meters: list[InventoryMeter]
    conflicts: list[InventoryConflictEntry] = Field(
        default_factory=list, description="of the last answer to a change made here"
    )
    history: list[InventoryHistoryEntry] = Field(
        default_factory=list, description="newest first, as central last sent it"
    )
