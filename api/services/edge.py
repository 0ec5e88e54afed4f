"""Edge operations: upload a batch of readings, record a heartbeat (siteConfig: api/services/inventory.py)."""

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from api import metrics
from api.errors import BatchRefused
from api.http.request_log import note
from api.realtime import events
from db.central.ingest.batch import IngestOutcome, ingest_batch
from db.central.ingest.parse import ColumnReadings
from db.central.models import Site
from db.central.site_status import record_heartbeat
from db.central.sites import SiteIdentity

logger = logging.getLogger(__name__)
MAX_BATCH_ID_LENGTH = 80


@dataclass(frozen=True)
class UploadRefused:
    """A whole batch refused (malformed, too big): nothing was written."""

    reason: str


async def upload_readings(
    session: AsyncSession, site: SiteIdentity, batch_id: str, readings, max_batch: int
) -> IngestOutcome:
    """Store a batch for the key's own site; BatchRefused when the batch as a whole is unusable."""
    batch_id = (batch_id or "").strip()
    if not batch_id or len(batch_id) > MAX_BATCH_ID_LENGTH:
        raise BatchRefused(f"batchId must have 1 to {MAX_BATCH_ID_LENGTH} characters")
    if not isinstance(readings, list | ColumnReadings):  # ColumnReadings: decoded in C (api/ingest/decode.py)
        raise BatchRefused("readings must be a JSON list of reading objects")
    if len(readings) > max_batch:
        raise BatchRefused(f"batch of {len(readings)} readings exceeds BATCH_SIZE {max_batch}")
    return await ingest_batch(session, site.id, batch_id, readings)


async def heartbeat(
    session: AsyncSession, site: SiteIdentity, health: dict, degraded_queue_depth: int
) -> tuple[Site, str]:
    """Record the edge's health; return the updated site and its status before this heartbeat."""
    return await record_heartbeat(session, site.id, health, degraded_queue_depth)


async def store_upload(ctx, batch_id: str, readings) -> IngestOutcome | UploadRefused:
    """uploadReadings for the context's site: stored, logged, counted and announced; each caller renders it.

    The callers are the GraphQL resolver (api/schema/edge/mutations.py) and the fast path (api/ingest/fast.py).
    """
    note(ctx.request, batch_id=batch_id)
    try:
        async with ctx.session() as session:
            outcome = await upload_readings(session, ctx.site, batch_id, readings, ctx.settings.batch_size)
    except BatchRefused as err:
        return UploadRefused(reason=str(err))
    logger.info(
        "site %s batch %s: %d new, %d duplicates, %d rejected%s",
        ctx.site.id,
        outcome.batch_id,
        outcome.new,
        outcome.duplicates,
        outcome.rejected,
        " (replayed)" if outcome.replayed else "",
        extra={"site_id": ctx.site.id, "batch_id": outcome.batch_id},
    )
    if not outcome.replayed:
        metrics.READINGS_INGESTED.inc(outcome.new)
        metrics.READINGS_DUPLICATE.inc(outcome.duplicates)
        metrics.READINGS_REJECTED.inc(outcome.rejected)
        await events.publish_readings(ctx.pubsub, ctx.site.id, outcome)
    return outcome
