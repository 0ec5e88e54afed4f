"""Data access for sites and their API keys (central database)."""

from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.cache_notify import sites_changed
from db.central_models import Site
from db.engine import driver_connection
from db.errors import AlreadyExists, NotFound
from db.networks import Networks, normalize_networks, stored_networks
from db.secrets import api_key_matches, key_prefix, new_api_key


@dataclass(frozen=True)
class NewSite:
    """A created site and its API key, which exists only here and is never stored in clear."""

    site: Site
    api_key: str


async def create_site(session: AsyncSession, name: str, timezone: str = "UTC") -> NewSite:
    """Create a site with a fresh key; raise AlreadyExists when the name is taken."""
    name = name.strip()
    if not name:
        raise ValueError("site name must not be empty")
    if await session.scalar(select(Site.id).where(Site.name == name)) is not None:
        raise AlreadyExists(f"a site named {name!r} exists")
    key, prefix, digest = new_api_key()
    site = Site(name=name, timezone=timezone, key_prefix=prefix, key_hash=digest)
    session.add(site)
    try:
        await session.flush()
    except IntegrityError as err:
        raise AlreadyExists(f"a site named {name!r} exists") from err
    await sites_changed(session)  # every API worker's cached sites list, at commit (api/cache.py)
    return NewSite(site=site, api_key=key)


async def rotate_site_key(session: AsyncSession, site_id: int) -> NewSite:
    """Give a site a new key; the old one stops working at commit."""
    site = await session.get(Site, site_id)
    if site is None:
        raise NotFound(f"no site with id {site_id}")
    key, prefix, digest = new_api_key()
    site.key_prefix, site.key_hash = prefix, digest
    await session.flush()
    return NewSite(site=site, api_key=key)


async def set_allowed_networks(session: AsyncSession, site_id: int, networks: list[str]) -> Site:
    """Accept the site's key only from these networks (CIDR, IPv4/IPv6); an empty list accepts any address."""
    site = await session.get(Site, site_id)
    if site is None:
        raise NotFound(f"no site with id {site_id}")
    site.allowed_networks = normalize_networks(networks)
    await session.flush()
    return site


async def find_site_by_key(session: AsyncSession, key: str) -> Site | None:
    """The active site owning this key, or None."""
    if not key:
        return None
    site = await session.scalar(select(Site).where(Site.key_prefix == key_prefix(key)))
    if site is None or not site.is_active or not api_key_matches(key, site.key_hash):
        return None
    return site


@dataclass(frozen=True)
class SiteIdentity:
    """The site a request's key belongs to: what edge operations need to know about their caller."""

    id: int
    name: str
    timezone: str
    collection_interval_seconds: float
    allowed_networks: Networks = ()


_IDENTITY_COLUMNS = "id, name, timezone, collection_interval_seconds, allowed_networks, is_active, key_hash"
_IDENTITY_BY_PREFIX = f"SELECT {_IDENTITY_COLUMNS} FROM sites WHERE key_prefix = $1"


async def identify_site(session: AsyncSession, key: str) -> SiteIdentity | None:
    """The active site owning this key, or None; on every edge request, so one plain query on PostgreSQL."""
    if not key:
        return None
    if session.bind.dialect.name == "postgresql":
        # No transaction: a single read. ~0.4 ms of CPU instead of ~1.1 ms for an ORM load of the site.
        row = await (await driver_connection(session)).fetchrow(_IDENTITY_BY_PREFIX, key_prefix(key))
    else:
        query = text(_IDENTITY_BY_PREFIX.replace("$1", ":prefix"))
        row = (await session.execute(query, {"prefix": key_prefix(key)})).mappings().first()
    if row is None or not row["is_active"] or not api_key_matches(key, row["key_hash"]):
        return None
    return SiteIdentity(
        row["id"],
        row["name"],
        row["timezone"],
        row["collection_interval_seconds"],
        stored_networks(row["allowed_networks"]),
    )


async def list_sites(session: AsyncSession) -> list[Site]:
    """All sites by name."""
    return list(await session.scalars(select(Site).order_by(Site.name)))
