"""Sites for dashboards and MCP: list with status, create (key shown once), rotate key, activate, maintain, networks.

SiteInfo is the one definition of a site's status as GraphQL (Site) and MCP (get_site_status) show it.
"""

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import InvalidInput, NotFoundError
from api.services.access import ADMIN, Scope
from causes import Cause, text
from db.central import sites as db_sites
from db.central.cache_notify import site_config_changed
from db.central.models import Site
from db.central.site_status import SIMULATED_FROM, SIMULATED_UNTIL, meter_counts, today_energy_kwh
from db.clock import utcnow
from db.errors import InvalidNetwork, NotFound
from db.inventory import MAX_INTERVAL_SECONDS, MIN_INTERVAL_SECONDS
from db.staleness import age_seconds, is_stale

SiteWithCounts = tuple[Site, tuple[int, int]]
# In MCP's JSON schema only: the GraphQL schema has no text for this field, and keeps it that way.
STATES = {"description": "online, degraded, offline or unknown"}


class SiteInfo(BaseModel):
    """A building with an edge agent, and its live status."""

    id: int
    name: str
    timezone: str
    is_active: bool
    maintenance: bool
    status: str = Field(json_schema_extra=STATES)
    last_heartbeat_at: datetime | None
    last_contact_at: datetime | None = Field(
        description="last request of any kind from the site's edge (upload, heartbeat, config); decides offline"
    )
    queue_depth: int | None
    oldest_queued_age_seconds: float | None
    agent_version: str | None
    meters_total: int
    meters_reachable: int
    allowed_networks: list[str] = Field(
        description="Networks (CIDR) the site's key is accepted from; empty: any address"
    )
    age_seconds: float | None = Field(
        description="seconds since the site's edge was last heard from (null: never)"
    )
    stale: bool = Field(description="not heard from for 3 × its collection interval")
    today_energy_kwh: float | None = Field(
        description="kWh used since local midnight, from cumulative kWh registers"
    )
    simulated_from: datetime | None = Field(
        description="start of the site's simulated (demo) readings, as its edge reported; null: none"
    )
    simulated_until: datetime | None = Field(
        description="end of the site's simulated (demo) readings; null: none"
    )

    @classmethod
    def of(
        cls, site: Site, counts: tuple[int, int] = (0, 0), today_kwh: float | None = None, **extra
    ) -> "SiteInfo":
        """From a sites row, its (meters, reachable meters) counts and today's kWh (extra: a subclass's fields)."""
        health = site.health or {}
        heard = site.last_contact_at or site.last_heartbeat_at
        now = utcnow()
        return cls(
            id=site.id,
            name=site.name,
            timezone=site.timezone,
            is_active=site.is_active,
            maintenance=site.maintenance,
            status=site.status,
            last_heartbeat_at=site.last_heartbeat_at,
            last_contact_at=site.last_contact_at,
            queue_depth=health.get("queue_depth"),
            oldest_queued_age_seconds=health.get("oldest_queued_age_seconds"),
            agent_version=health.get("agent_version"),
            meters_total=counts[0],
            meters_reachable=counts[1],
            allowed_networks=list(site.allowed_networks or []),
            age_seconds=age_seconds(heard, now),
            stale=is_stale(heard, site.collection_interval_seconds, now),
            today_energy_kwh=today_kwh,
            simulated_from=_moment(health.get(SIMULATED_FROM)),
            simulated_until=_moment(health.get(SIMULATED_UNTIL)),
            **extra,
        )


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


async def list_sites(session: AsyncSession, scope: Scope, search: str | None = None) -> list[SiteWithCounts]:
    """The caller's sites by name (optionally whose name contains search), with (meters, reachable meters)."""
    query = select(Site).order_by(Site.name)
    if (allowed := scope.site_ids()) is not None:
        query = query.where(Site.id.in_(list(allowed)))
    if search:
        query = query.where(Site.name.ilike(f"%{search.strip()}%"))
    sites = list(await session.scalars(query))
    counts = await meter_counts(session, [s.id for s in sites])
    return [(s, counts[s.id]) for s in sites]


async def get_site(session: AsyncSession, site_id: int, scope: Scope) -> SiteWithCounts:
    """One site of the caller's with its meter counts; NotFoundError otherwise."""
    scope.check_read(site_id)
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


async def rotate_site_key(session: AsyncSession, site_id: int, overlap_hours: float) -> db_sites.NewSite:
    """A new key for a site; the old one works on for overlap_hours or until the edge uses the new one."""
    try:
        return await db_sites.rotate_site_key(session, site_id, overlap_hours * 3600)
    except NotFound as err:
        raise NotFoundError(str(err)) from err


async def set_site_flags(
    session: AsyncSession,
    site_id: int,
    scope: Scope,
    *,
    active: bool | None = None,
    maintenance: bool | None = None,
) -> SiteWithCounts:
    """Enable/disable a site (admins; its key stops working) or put it in maintenance (its managers)."""
    scope.check_manage(site_id)
    if active is not None:
        scope.check_admin()
    site, counts = await get_site(session, site_id, scope)
    if active is not None:
        site.is_active = active
    if maintenance is not None:
        site.maintenance = maintenance
    await session.flush()
    return site, counts


async def set_collection_interval(
    session: AsyncSession, site_id: int, seconds: float, scope: Scope
) -> SiteWithCounts:
    """The site's collection interval (meters without their own); the edge applies it at its next sync."""
    scope.check_manage(site_id)
    if not MIN_INTERVAL_SECONDS <= seconds <= MAX_INTERVAL_SECONDS:
        raise InvalidInput(
            f"collection interval must be {MIN_INTERVAL_SECONDS:g} to {MAX_INTERVAL_SECONDS:g} seconds (got {seconds:g})"
        )
    site, counts = await get_site(session, site_id, scope)
    site.collection_interval_seconds = seconds
    await session.flush()
    await site_config_changed(session, site_id)  # siteConfig carries the interval (api/realtime/cache.py)
    return site, counts


async def set_allowed_networks(session: AsyncSession, site_id: int, networks: list[str]) -> SiteWithCounts:
    """Accept the site's key only from these CIDR networks (an empty list: from anywhere)."""
    try:
        await db_sites.set_allowed_networks(session, site_id, networks)
    except NotFound as err:
        raise NotFoundError(str(err)) from err
    except InvalidNetwork as err:
        raise InvalidInput(str(err)) from err
    return await get_site(session, site_id, ADMIN)


async def today_energy(session: AsyncSession, site: Site) -> float | None:
    """kWh used today at the site (local time)."""
    return await today_energy_kwh(session, site)
