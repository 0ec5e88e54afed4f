"""Edge operations: upload a batch of readings, record a heartbeat, give the site its configuration."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import BatchRefused
from db.central_models import Meter, Site
from db.ingest import IngestOutcome, ingest_batch
from db.meters import PointView, list_meters, points_of
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


@dataclass
class SiteConfig:
    """What an edge downloads: its site, enabled and disabled meters, and each meter's points."""

    site: SiteIdentity
    meters: list[tuple[Meter, list[PointView]]]


async def site_config(session: AsyncSession, site: SiteIdentity) -> SiteConfig:
    """The configuration of the key's own site (never another site's)."""
    meters = [m for m in await list_meters(session, site.id) if not m.discovered]
    points = await points_of(session, [m.id for m in meters], with_latest=False)
    return SiteConfig(site=site, meters=[(m, points.get(m.id, [])) for m in meters])
