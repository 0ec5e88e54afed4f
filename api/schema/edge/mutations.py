"""Edge mutations (site key in X-API-Key): authenticateSite, uploadReadings, heartbeat."""

import logging
import math

import strawberry
from strawberry.types import Info

from api import metrics
from api.errors import InvalidInput
from api.realtime import events
from api.schema.edge.types import (
    MAX_EDGE_ALERTS,
    AuthenticatedSite,
    HeartbeatAck,
    HeartbeatInput,
    ReadingBatchInput,
    Rejection,
    UploadOutcome,
    UploadRejected,
    UploadResult,
)
from api.schema.permissions import IsSite
from api.services import edge as edge_service
from api.services.edge import UploadRefused, store_upload
from db.central.ingest.batch import IngestOutcome
from db.central.site_status import EDGE_ALERTS, OUTAGE_ENDED, OUTAGE_STARTED, SIMULATED_FROM, SIMULATED_UNTIL
from db.inventory import MAX_METERS_PER_SITE

logger = logging.getLogger(__name__)


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
