"""Edge operations (site key in X-API-Key): authenticateSite, uploadReadings, heartbeat, siteConfig."""

import logging
import math
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from api import metrics
from api.errors import InvalidInput
from api.realtime import events
from api.schema.inventory import SiteInventory
from api.schema.permissions import IsSite
from api.schema.scalars import ReadingRows
from api.services import edge as edge_service
from api.services import inventory as inventory_service
from api.services.access import site_key_scope
from api.services.edge import UploadRefused, store_upload
from db.central.ingest.batch import IngestOutcome
from db.central.site_status import EDGE_ALERTS, OUTAGE_ENDED, OUTAGE_STARTED, SIMULATED_FROM, SIMULATED_UNTIL
from db.inventory import MAX_METERS_PER_SITE

logger = logging.getLogger(__name__)


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


MAX_AGENT_VERSION = 64
MAX_EXTERNAL_ID = 100
MAX_LAST_ERROR = 1000


def _heartbeat_problems(status: HeartbeatInput) -> list[str]:
    """What is wrong with a heartbeat's fields (empty: it may be stored)."""
    problems = []
    if not 0 < len(status.agent_version) <= MAX_AGENT_VERSION:
        problems.append(f"agentVersion must have 1 to {MAX_AGENT_VERSION} characters")
    counts = {"queueDepth": status.queue_depth, "deadLetterCount": status.dead_letter_count}
    for name, value in counts.items():
        if value is not None and value < 0:
            problems.append(f"{name} must not be negative")
    durations = {
        "oldestQueuedAgeSeconds": status.oldest_queued_age_seconds,
        "centralUnreachableSeconds": status.central_unreachable_seconds,
    }
    for name, value in durations.items():
        if value is not None and not (math.isfinite(value) and value >= 0):
            problems.append(f"{name} must be a finite number, not negative")
    for name, value in {
        "collectionSuccessRate": status.collection_success_rate,
        "syncSuccessRate": status.sync_success_rate,
    }.items():
        if value is not None and not (math.isfinite(value) and 0 <= value <= 1):
            problems.append(f"{name} must be between 0 and 1")
    if len(status.meters) > MAX_METERS_PER_SITE:
        problems.append(f"meters may list at most {MAX_METERS_PER_SITE} meters")
    for meter in status.meters[:MAX_METERS_PER_SITE]:
        if not 0 < len(meter.external_id) <= MAX_EXTERNAL_ID:
            problems.append(f"meters[].externalId must have 1 to {MAX_EXTERNAL_ID} characters")
            break
        if meter.last_error is not None and len(meter.last_error) > MAX_LAST_ERROR:
            problems.append(f"meters[].lastError must have at most {MAX_LAST_ERROR} characters")
            break
    return problems


def _health(status: HeartbeatInput) -> dict:
    health = strawberry.asdict(status)
    for name in (OUTAGE_STARTED, OUTAGE_ENDED, SIMULATED_FROM, SIMULATED_UNTIL):
        health[name] = health[name].isoformat() if health[name] else None
    health[EDGE_ALERTS] = [
        {
            **a,
            "started_at": a["started_at"].isoformat(),
            "ended_at": a["ended_at"].isoformat(),
            "message": (a["message"] or "")[:500],
        }
        for a in (health.get(EDGE_ALERTS) or [])[:MAX_EDGE_ALERTS]
    ]
    health["meters"] = [
        {**m, "last_seen_at": m["last_seen_at"].isoformat() if m["last_seen_at"] else None}
        for m in health["meters"]
    ]
    return health


@strawberry.type
class EdgeQuery:
    """Queries of the edge agent."""

    @strawberry.field(permission_classes=[IsSite])
    async def site_config(self, info: Info) -> SiteConfig:
        """The key's own site configuration: meters, points and collection interval (cached, api/realtime/cache.py)."""
        site = info.context.site

        async def load() -> SiteConfig:
            async with info.context.session() as session:
                inventory = await inventory_service.site_inventory(session, site.id, site_key_scope(site.id))
            return SiteConfig(
                site_id=strawberry.ID(str(site.id)),
                site_name=site.name,
                timezone=site.timezone,
                collection_interval_seconds=site.collection_interval_seconds,
                meters=[ConfigMeter.from_inventory(m) for m in inventory.inventory.meters],
                inventory=SiteInventory.from_service(inventory),
            )

        caches = info.context.caches
        if caches is None:
            return await load()
        return await caches.configs.get_or_load(site.id, load)


def upload_answer(outcome: IngestOutcome | UploadRefused) -> UploadResult | UploadRejected:
    """The GraphQL answer of a stored upload (api/ingest/fast.py renders the same outcome itself)."""
    if isinstance(outcome, UploadRefused):
        return UploadRejected(reason=outcome.reason)
    return UploadResult(
        batch_id=outcome.batch_id,
        new=outcome.new,
        duplicates=outcome.duplicates,
        rejected=outcome.rejected,
        replayed=outcome.replayed,
        rejections=[Rejection(index=r["index"], reason=r["reason"]) for r in outcome.rejections],
    )


@strawberry.type
class EdgeMutation:
    """Mutations of the edge agent."""

    @strawberry.mutation(permission_classes=[IsSite])
    def authenticate_site(self, info: Info) -> AuthenticatedSite:
        """Confirm the key and return its site."""
        site = info.context.site
        return AuthenticatedSite(site_id=strawberry.ID(str(site.id)), name=site.name, timezone=site.timezone)

    @strawberry.mutation(permission_classes=[IsSite])
    async def upload_readings(self, info: Info, batch: ReadingBatchInput) -> UploadOutcome:
        """Store a batch of readings for the key's site (idempotent by batchId and reading key)."""
        metrics.UPLOADS.labels("graphql").inc()
        try:
            return upload_answer(await store_upload(info.context, batch.batch_id, batch.readings))
        finally:
            # graphql-core's execution state is a reference cycle holding the request's variables until the
            # next garbage collection: emptying the list frees its readings now (~15% of an upload's CPU).
            if isinstance(batch.readings, list):
                batch.readings.clear()

    @strawberry.mutation(permission_classes=[IsSite])
    async def heartbeat(self, info: Info, status: HeartbeatInput) -> HeartbeatAck:
        """Record the edge's health and update the site's status (fields out of bounds: refused, nothing stored)."""
        ctx = info.context
        problems = _heartbeat_problems(status)
        if problems:
            raise InvalidInput("heartbeat refused: " + "; ".join(problems))
        async with ctx.session() as session:
            site, previous = await edge_service.heartbeat(
                session, ctx.site, _health(status), ctx.settings.degraded_queue_depth
            )
        if site.status != previous:
            logger.info("site %s (%s): %s -> %s", site.id, site.name, previous, site.status)
        await events.publish_site_status(ctx.pubsub, site)
        return HeartbeatAck(
            site_id=strawberry.ID(str(site.id)), status=site.status, received_at=site.last_heartbeat_at
        )
