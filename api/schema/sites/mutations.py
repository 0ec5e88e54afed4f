"""Site mutations: create (key shown once), rotate key, activate, maintenance, networks."""

import strawberry
from strawberry.types import Info

from api.schema.ids import to_int
from api.schema.permissions import IsAdmin, IsAuthenticated, scope
from api.schema.sites.types import CreatedSite, Site
from api.services import sites as service
from api.services.access import ADMIN


async def _changed(info: Info) -> None:
    """Tell every worker's sites cache that a site changed."""
    if info.context.caches is not None:
        await info.context.caches.sites_changed()


@strawberry.type
class SitesMutation:
    """Changes to sites (admin only)."""

    @strawberry.mutation(permission_classes=[IsAdmin])
    async def create_site(self, info: Info, name: str, timezone: str = "UTC") -> CreatedSite:
        """Create a site; its API key is in the answer and never shown again."""
        async with info.context.session() as session:
            created = await service.create_site(session, name, timezone)
        await _changed(info)
        return CreatedSite(site=Site.from_model(created.site), api_key=created.api_key)

    @strawberry.mutation(permission_classes=[IsAdmin])
    async def rotate_site_key(self, info: Info, site_id: strawberry.ID) -> CreatedSite:
        """Give a site a new key (shown once); the old key works on until KEY_ROTATION_OVERLAP_HOURS pass or
        the edge first uses the new one, whichever comes first."""
        async with info.context.session() as session:
            created = await service.rotate_site_key(
                session, to_int(site_id, "site id"), info.context.settings.key_rotation_overlap_hours
            )
            site, counts = await service.get_site(session, created.site.id, ADMIN)
        await _changed(info)
        return CreatedSite(site=Site.from_model(site, counts), api_key=created.api_key)

    @strawberry.mutation(permission_classes=[IsAdmin])
    async def set_site_active(self, info: Info, site_id: strawberry.ID, active: bool) -> Site:
        """Enable or disable a site (a disabled site's key is refused)."""
        async with info.context.session() as session:
            site, counts = await service.set_site_flags(
                session, to_int(site_id, "site id"), scope(info), active=active
            )
        await _changed(info)
        return Site.from_model(site, counts)

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    async def set_site_maintenance(self, info: Info, site_id: strawberry.ID, maintenance: bool) -> Site:
        """Put a site in or out of maintenance (its managers)."""
        async with info.context.session() as session:
            site, counts = await service.set_site_flags(
                session, to_int(site_id, "site id"), scope(info), maintenance=maintenance
            )
        await _changed(info)
        return Site.from_model(site, counts)

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    async def set_site_collection_interval(self, info: Info, site_id: strawberry.ID, seconds: float) -> Site:
        """How often the site's meters are polled (5 s to a day; a meter's own interval wins; its managers)."""
        async with info.context.session() as session:
            site, counts = await service.set_collection_interval(
                session, to_int(site_id, "site id"), seconds, scope(info)
            )
        await _changed(info)  # the cached sites list shows it
        return Site.from_model(site, counts)

    @strawberry.mutation(permission_classes=[IsAdmin])
    async def set_site_allowed_networks(
        self, info: Info, site_id: strawberry.ID, networks: list[str]
    ) -> Site:
        """Accept the site's key only from these networks (CIDR, IPv4/IPv6); an empty list: from anywhere."""
        async with info.context.session() as session:
            site, counts = await service.set_allowed_networks(session, to_int(site_id, "site id"), networks)
        await _changed(info)  # the cached sites list shows it
        return Site.from_model(site, counts)
