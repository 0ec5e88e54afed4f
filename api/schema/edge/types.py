"""Types of the edge operations: upload batches and outcomes, heartbeats, the site's config."""

from datetime import datetime
from typing import Annotated

import strawberry

from api.schema.inventory.types import SiteInventory
from api.schema.scalars import ReadingRows


@strawberry.type
class AuthenticatedSite:
    """The site a key belongs to."""

    site_id: strawberry.ID
    name: str
    timezone: str


@strawberry.input
class ReadingBatchInput:
    """A batch of readings; batchId makes the upload idempotent (a replay returns the stored result)."""

    batch_id: str
    readings: ReadingRows


@strawberry.type
class Rejection:
    """A reading refused alone: its index in the batch and why."""

    index: int
    reason: str


@strawberry.type
class UploadResult:
    """What an accepted batch did: new + duplicates + rejected == number of readings."""

    batch_id: str
    new: int
    duplicates: int
    rejected: int
    replayed: bool
    rejections: list[Rejection]


@strawberry.type
class UploadRejected:
    """The whole batch was refused (malformed, too big): nothing was written."""

    reason: str


UploadOutcome = Annotated[UploadResult | UploadRejected, strawberry.union("UploadOutcome")]


@strawberry.input
class MeterHealthInput:
    """One meter's reachability as the edge sees it."""

    external_id: str
    reachable: bool
    last_error: str | None = None
    last_seen_at: datetime | None = None


@strawberry.input
class EdgeAlertInput:
    """An alert the edge decided itself and that has ended (meter_unreachable or edge_queue)."""

    kind: str
    started_at: datetime
    ended_at: datetime
    meter_external_id: str | None = None
    message: str | None = None


MAX_EDGE_ALERTS = 50


@strawberry.input
class HeartbeatInput:
    """The edge agent's health."""

    agent_version: str
    queue_depth: int
    meters: list[MeterHealthInput]
    oldest_queued_age_seconds: float | None = None
    dead_letter_count: int | None = None
    collection_success_rate: float | None = None
    sync_success_rate: float | None = None
    central_unreachable_seconds: float | None = None
    collecting: bool | None = None
    outbox_full: bool | None = None
    last_central_outage_started_at: datetime | None = strawberry.field(
        default=None, description="start of the last completed period the edge could not reach central"
    )
    last_central_outage_ended_at: datetime | None = strawberry.field(
        default=None, description="end of that period (both are sent together)"
    )
    edge_alerts: list[EdgeAlertInput] | None = strawberry.field(
        default=None,
        description="the edge's own alerts that ended in the last day, repeated until then; recorded once each",
    )
    simulated_from: datetime | None = strawberry.field(
        default=None, description="start of simulated (demo) readings the edge queued; central keeps the span"
    )
    simulated_until: datetime | None = strawberry.field(
        default=None, description="end of those readings (both are sent together)"
    )


@strawberry.type
class HeartbeatAck:
    """The site's status after the heartbeat."""

    site_id: strawberry.ID
    status: str
    received_at: datetime


@strawberry.type
class ConfigDataPoint:
    """A point the edge should read."""

    name: str
    object_type: str
    instance: int
    property: str
    unit: str | None
    cumulative: bool
    cov: bool


@strawberry.type
class ConfigMeter:
    """A meter the edge should poll."""

    external_id: str
    name: str
    bacnet_device_id: int | None
    bacnet_address: str | None
    enabled: bool
    data_points: list[ConfigDataPoint]

    @classmethod
    def from_inventory(cls, meter) -> "ConfigMeter":
        """From an inventory meter (db/inventory.py)."""
        return cls(
            external_id=meter.external_id,
            name=meter.name,
            bacnet_device_id=meter.bacnet_device_id,
            bacnet_address=meter.bacnet_address,
            enabled=meter.enabled,
            data_points=[
                ConfigDataPoint(
                    name=p.name, object_type=p.object_type, instance=p.instance, property=p.property,
                    unit=p.unit, cumulative=p.cumulative, cov=p.cov,
                )
                for p in meter.points
            ],
        )  # fmt: skip


@strawberry.type
class SiteConfig:
    """Everything the edge downloads about its own site."""

    site_id: strawberry.ID
    site_name: str
    timezone: str
    collection_interval_seconds: float
    meters: list[ConfigMeter] = strawberry.field(
        description="the inventory's meters in the first contract's shape (edges before inventory versions)"
    )
    inventory: SiteInventory
