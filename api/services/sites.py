"""Sites for dashboards and MCP: list with status, create (key shown once), rotate key, activate, maintain, networks."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import InvalidInput, NotFoundError
from causes import Cause, text
from db import sites as db_sites
from db.cache_notify import site_config_changed
from db.central_models import Site
from db.errors import InvalidNetwork, NotFound
from db.inventory import MAX_INTERVAL_SECONDS, MIN_INTERVAL_SECONDS
from db.site_status import meter_counts, today_energy_kwh

SiteWithCounts = tuple[Site, tuple[int, int]]


async def list_sites(session: AsyncSession, search: str | None = None) -> list[SiteWithCounts]:
    """Sites by name (optionally whose name contains search), with (meters, reachable meters)."""
    query = select(Site).order_by(Site.name)
    if search:
        query = query.where(Site.name.ilike(f"%{search.strip()}%"))
    sites = list(await session.scalars(query))
    counts = await meter_counts(session, [s.id for s in sites])
    return [(s, counts[s.id]) for s in sites]


async def get_site(session: AsyncSession, site_id: int) -> SiteWithCounts:
    """One site with its meter counts; NotFoundError otherwise."""
    site = await session.get(Site, site_id)
    if site is None:
        raise NotFoundError(text(Cause.UNKNOWN_SITE, site_id=site_id))
    return site, (await meter_counts(session, [site.id]))[site.id]


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise InvalidInput(f"unknown time zone {name!r}") from err
    return name


async def create_site(session: AsyncSession, name: str, timezone: str = "UTC") -> db_sites.NewSite:
    """A new site and its API key (the only time the key exists in clear)."""
    return await db_sites.create_site(session, name, _check_timezone(timezone))


async def rotate_site_key(session: AsyncSession, site_id: int) -> db_sites.NewSite:
    """A new key for a site; the old one stops working."""
    try:
        return await db_sites.rotate_site_key(session, site_id)
    except NotFound as err:
        raise NotFoundError(str(err)) from err


async def set_site_flags(
    session: AsyncSession, site_id: int, *, active: bool | None = None, maintenance: bool | None = None
) -> SiteWithCounts:
    """Enable/disable a site (its key stops working) or put it in maintenance (alerts stay quiet)."""
    site, counts = await get_site(session, site_id)
    if active is not None:
        site.is_active = active
    if maintenance is not None:
        site.maintenance = maintenance
    await session.flush()
    return site, counts


async def set_collection_interval(session: AsyncSession, site_id: int, seconds: float) -> SiteWithCounts:
    """The site's collection interval (meters without their own); the edge applies it at its next sync."""
    if not MIN_INTERVAL_SECONDS <= seconds <= MAX_INTERVAL_SECONDS:
        raise InvalidInput(
            f"collection interval must be {MIN_INTERVAL_SECONDS:g} to {MAX_INTERVAL_SECONDS:g} seconds (got {seconds:g})"
        )
    site, counts = await get_site(session, site_id)
    site.collection_interval_seconds = seconds
    await session.flush()
    await site_config_changed(session, site_id)  # siteConfig carries the interval (api/cache.py)
    return site, counts


async def set_allowed_networks(session: AsyncSession, site_id: int, networks: list[str]) -> SiteWithCounts:
    """Accept the site's key only from these CIDR networks (an empty list: from anywhere)."""
    try:
        await db_sites.set_allowed_networks(session, site_id, networks)
    except NotFound as err:
        raise NotFoundError(str(err)) from err
    except InvalidNetwork as err:
        raise InvalidInput(str(err)) from err
    return await get_site(session, site_id)


async def today_energy(session: AsyncSession, site: Site) -> float | None:
    """kWh used today at the site (local time)."""
    return await today_energy_kwh(session, site)
