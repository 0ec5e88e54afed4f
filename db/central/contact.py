"""Site liveness: the one place that records that a site's edge was heard from (any authenticated request)."""

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from db.central.models import Site
from db.central.site_status import OFFLINE, UNKNOWN, status_from_health
from db.clock import utcnow


def last_heard(site) -> object:
    """When the site was last heard from: its last contact, else (rows from before contacts) its last heartbeat."""
    return site.last_contact_at or site.last_heartbeat_at


async def record_contact(session: AsyncSession, site_id: int, degraded_queue_depth: int) -> Site | None:
    """Note a request from the site's edge now; return the site when this brought it back from offline/unknown."""
    stamped = update(Site).where(Site.id == site_id).values(last_contact_at=utcnow()).returning(Site.status)
    status = (await session.execute(stamped)).scalar_one_or_none()
    if status not in (OFFLINE, UNKNOWN):
        return None
    site = await session.get(Site, site_id, with_for_update=session.bind.dialect.name == "postgresql")
    if site.status not in (OFFLINE, UNKNOWN):  # another worker brought it back first
        return None
    site.status = status_from_health(site.health or {}, degraded_queue_depth)
    await session.flush()
    return site
