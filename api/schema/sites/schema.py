"""Site queries: sites, site and the fleet overview (filtered, sorted and paged at the server)."""

import strawberry
from strawberry.types import Info

from api.errors import NotFoundError
from api.realtime.cache import ALL_SITES
from api.schema.ids import to_int
from api.schema.permissions import IsAuthenticated, scope
from api.schema.sites.types import FleetPage, FleetSort, FleetStatus, Site
from api.services import fleet as fleet_service
from api.services import sites as service
from api.services.access import ADMIN


@strawberry.type
class SitesQuery:
    """Queries about sites."""

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def sites(self, info: Info, search: str | None = None) -> list[Site]:
        """Every site (optionally whose name contains search), with status (cached a minute, api/realtime/cache.py)."""

        caller = scope(info)

        async def load() -> list[Site]:
            async with info.context.session() as session:
                rows = await service.list_sites(session, ADMIN if search is None else caller, search)
            return [Site.from_model(site, counts) for site, counts in rows]

        caches = info.context.caches
        if caches is None or search:
            found = await load()
        else:
            found = await caches.sites.get_or_load(ALL_SITES, load)
        return [site for site in found if caller.reads(int(site.id))]

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def site(self, info: Info, id: strawberry.ID) -> Site | None:
        """One site, or null when it does not exist."""
        async with info.context.session() as session:
            try:
                site, counts = await service.get_site(session, to_int(id, "site id"), scope(info))
            except NotFoundError:
                return None
        return Site.from_model(site, counts)


@strawberry.type
class FleetQuery:
    """The overview's query."""

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def fleet(
        self,
        info: Info,
        status: FleetStatus | None = None,
        search: str | None = None,
        sort: FleetSort = FleetSort.NAME,
        first: int = 24,
        offset: int = 0,
    ) -> FleetPage:
        """One page of sites (at most 200) with the counts and totals of the whole fleet."""
        async with info.context.session() as session:
            page = await fleet_service.fleet_page(
                session,
                status.value if status else None,
                search,
                sort.value,
                first,
                offset,
                scope=scope(info),
            )
        return FleetPage.from_page(page)
