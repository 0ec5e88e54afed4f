"""Data access for per-site roles of users (site_grants): who may read or manage which site."""

import json
from dataclasses import dataclass

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.central.models import Site, SiteGrant, User
from db.errors import NotFound

SITE_ROLES = ("manager", "viewer")


@dataclass(frozen=True)
class GrantRow:
    """One grant as lists show it."""

    user_id: int
    email: str
    site_id: int
    site_name: str
    role: str


async def grants_of(session: AsyncSession, user_id: int) -> dict[int, str]:
    """{site id: "manager"|"viewer"} for one user."""
    rows = await session.execute(
        select(SiteGrant.site_id, SiteGrant.role).where(SiteGrant.user_id == user_id)
    )
    return {site_id: role for site_id, role in rows}


async def set_grant(session: AsyncSession, user_id: int, site_id: int, role: str) -> SiteGrant:
    """Give a user a role at a site (replacing the one it had there); NotFound for an unknown user or site."""
    if role not in SITE_ROLES:
        raise ValueError(f"site role must be one of {', '.join(SITE_ROLES)}")
    if await session.get(User, user_id) is None:
        raise NotFound(f"no user with id {user_id}")
    if await session.get(Site, site_id) is None:
        raise NotFound(f"no site with id {site_id}")
    grant = await session.get(SiteGrant, (user_id, site_id))
    if grant is None:
        grant = SiteGrant(user_id=user_id, site_id=site_id, role=role)
        session.add(grant)
    grant.role = role
    await session.flush()
    return grant


async def remove_grant(session: AsyncSession, user_id: int, site_id: int) -> bool:
    """Take a user's role at a site away; False when it had none."""
    result = await session.execute(
        delete(SiteGrant).where(SiteGrant.user_id == user_id, SiteGrant.site_id == site_id)
    )
    return bool(result.rowcount)


async def list_grants(session: AsyncSession, user_id: int | None = None) -> list[GrantRow]:
    """Every grant (or one user's), by e-mail then site name."""
    query = (
        select(SiteGrant.user_id, User.email, SiteGrant.site_id, Site.name, SiteGrant.role)
        .join(User, User.id == SiteGrant.user_id)
        .join(Site, Site.id == SiteGrant.site_id)
        .order_by(User.email, Site.name)
    )
    if user_id is not None:
        query = query.where(SiteGrant.user_id == user_id)
    return [GrantRow(*row) for row in await session.execute(query)]


_NOTIFY = text(
    "SELECT pg_notify('meterit_users', :payload)"
)  # api/realtime/pubsub.py: PG_CHANNEL_PREFIX + "users"


async def notify_sites_changed(session: AsyncSession, user_id: int, event: str = "sites_changed") -> None:
    """Tell every API worker, at commit, that the user's sites changed (its sockets close; PostgreSQL only);
    event "sessions_ended" after a password set from the command line."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(_NOTIFY, {"payload": json.dumps({"event": event, "user_id": user_id})})
