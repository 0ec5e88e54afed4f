"""Meters for dashboards and MCP: list with points and latest values, create/update, delete."""

from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import NotFoundError
from db import meters as db_meters
from db.central_models import Meter, Site
from db.errors import NotFound
from db.meters import PointView


async def meters_with_points(
    session: AsyncSession, site_id: int | None = None
) -> list[tuple[Meter, list[PointView]]]:
    """Meters of one site (or all) with their points and each point's newest reading."""
    meters = await db_meters.list_meters(session, site_id)
    points = await db_meters.points_of(session, [m.id for m in meters])
    return [(m, points.get(m.id, [])) for m in meters]


async def meter_with_points(session: AsyncSession, meter_id: int) -> tuple[Meter, list[PointView]]:
    """One meter with its points; NotFoundError otherwise."""
    try:
        meter = await db_meters.get_meter(session, meter_id)
    except NotFound as err:
        raise NotFoundError(str(err)) from err
    return meter, (await db_meters.points_of(session, [meter.id]))[meter.id]


async def upsert_meter(
    session: AsyncSession, site_id: int, external_id: str, fields: dict, points: list[dict] | None
) -> tuple[Meter, list[PointView]]:
    """Create or update a meter by external id; points, when given, replace the meter's point list."""
    if await session.get(Site, site_id) is None:
        raise NotFoundError(f"no site with id {site_id}")
    meter = await db_meters.upsert_meter(session, site_id, external_id, fields, points)
    return await meter_with_points(session, meter.id)


async def delete_meter(session: AsyncSession, meter_id: int) -> bool:
    """Delete a meter and its points (stored readings stay until retention drops them)."""
    try:
        await db_meters.delete_meter(session, meter_id)
    except NotFound as err:
        raise NotFoundError(str(err)) from err
    return True
