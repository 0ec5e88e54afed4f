"""Meters for dashboards and MCP: list with points and latest values, look up, delete (edits: inventory)."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import NotFoundError
from api.services import inventory
from api.services.access import Scope, meter_in_scope
from db.central import meters as db_meters
from db.central.inventory_store import current
from db.central.meters import PointView
from db.central.models import Meter, Site


async def meters_with_points(
    session: AsyncSession, scope: Scope, site_id: int | None = None
) -> list[tuple[Meter, list[PointView]]]:
    """Meters of one site (or all of the caller's) with their points and each point's newest reading."""
    if site_id is not None:
        scope.check_read(site_id)
    meters = await db_meters.list_meters(session, site_id, scope.site_ids())
    points = await db_meters.points_of(session, [m.id for m in meters])
    return [(m, points.get(m.id, [])) for m in meters]


async def site_intervals(session: AsyncSession, site_ids: set[int]) -> dict[int, float]:
    """Each site's collection interval (what a meter without its own is polled at)."""
    if not site_ids:
        return {}
    rows = await session.execute(
        select(Site.id, Site.collection_interval_seconds).where(Site.id.in_(site_ids))
    )
    return dict(rows.all())


async def meter_with_points(
    session: AsyncSession, meter_id: int, scope: Scope
) -> tuple[Meter, list[PointView]]:
    """One meter of the caller's sites with its points; NotFoundError otherwise."""
    meter = await meter_in_scope(session, scope, meter_id)
    return meter, (await db_meters.points_of(session, [meter.id]))[meter.id]


async def meter_by_external_id(
    session: AsyncSession, site_id: int, external_id: str
) -> tuple[Meter, list[PointView]]:
    """A site's meter by external id, with its points; NotFoundError otherwise."""
    meter = await session.scalar(
        select(Meter).where(Meter.site_id == site_id, Meter.external_id == external_id.strip())
    )
    if meter is None:
        raise NotFoundError(f"site {site_id} has no meter {external_id!r}")
    return meter, (await db_meters.points_of(session, [meter.id]))[meter.id]


async def delete_meter(
    session: AsyncSession, meter_id: int, origin: str, author: str | None, scope: Scope
) -> bool:
    """Delete a meter (its site's managers): from the site's inventory when defined there, else the placeholder."""
    meter = await meter_in_scope(session, scope, meter_id, manage=True)
    site_id, external_id = meter.site_id, meter.external_id
    if external_id in (await current(session, site_id)).inventory.by_id():
        await inventory.remove_meter(session, site_id, external_id, origin, author, scope)
    else:
        await db_meters.delete_meter(session, meter_id)
    return True
