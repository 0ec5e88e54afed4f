"""Edge operations: upload a batch of readings, record a heartbeat (siteConfig: api/services/inventory.py)."""

from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import BatchRefused
from db.central_models import Site
from db.ingest import IngestOutcome, ingest_batch
from db.site_status import record_heartbeat
from db.sites import SiteIdentity

MAX_BATCH_ID_LENGTH = 80


async def upload_readings(
    session: AsyncSession, site: SiteIdentity, batch_id: str, readings, max_batch: int
) -> IngestOutcome:
    """Store a batch for the key's own site; BatchRefused when the batch as a whole is unusable."""
    batch_id = (batch_id or "").strip()
    if not batch_id or len(batch_id) > MAX_BATCH_ID_LENGTH:
        raise BatchRefused(f"batchId must have 1 to {MAX_BATCH_ID_LENGTH} characters")
    if not isinstance(readings, list):
        raise BatchRefused("readings must be a JSON list of reading objects")
    if len(readings) > max_batch:
        raise BatchRefused(f"batch of {len(readings)} readings exceeds BATCH_SIZE {max_batch}")
    return await ingest_batch(session, site.id, batch_id, readings)


async def heartbeat(
    session: AsyncSession, site: SiteIdentity, health: dict, degraded_queue_depth: int
) -> tuple[Site, str]:
    """Record the edge's health; return the updated site and its status before this heartbeat."""
    return await record_heartbeat(session, site.id, health, degraded_queue_depth)
