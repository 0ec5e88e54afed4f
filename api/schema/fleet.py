"""The fleet overview query: sites filtered by status and name, sorted and paged at the server."""

from enum import Enum

import strawberry
from strawberry.types import Info

from api.schema.permissions import IsAuthenticated, scope
from api.schema.types import Site
from api.services import fleet as service
from db.central import fleet as db_fleet


@strawberry.enum
class FleetStatus(Enum):
    """What a site card's status chip filters on (maintenance wins over the heartbeat status)."""

    ONLINE = "online"
    DEGRADED = "degraded"
    OFFLINE = "offline"
    MAINTENANCE = "maintenance"
    UNKNOWN = "unknown"


@strawberry.enum
class FleetSort(Enum):
    """Orders of the overview."""

    NAME = "name"
    STATUS = "status"
    LAST_HEARD = "last_heard"
    QUEUE_DEPTH = "queue_depth"


@strawberry.type
class FleetCounts:
    """Sites per status among those matching the search."""

    online: int
    degraded: int
    offline: int
    maintenance: int
    unknown: int


@strawberry.type
class FleetSite:
    """One site card: the site, its open alerts and today's power per hour since local midnight (kW)."""

    site: Site
    open_alerts: int
    power_today: list[float | None] = strawberry.field(
        description="mean kW of each hour since the site's local midnight; null for an hour without data"
    )


@strawberry.type
class FleetPage:
    """One page of the overview and the fleet's totals."""

    total: int = strawberry.field(description="sites matching the search and status")
    counts: FleetCounts
    sites_offline: int
    today_energy_kwh: float = strawberry.field(description="kWh used today by the sites matching the search")
    open_alerts: int = strawberry.field(description="open alerts in the whole fleet")
    items: list[FleetSite]

    @classmethod
    def from_page(cls, page: db_fleet.FleetPage) -> "FleetPage":
        """From the data layer's page."""
        items = [
            FleetSite(
                site=Site.from_model(s, page.meters.get(s.id, (0, 0)), page.today_kwh.get(s.id)),
                open_alerts=page.open_alerts_by_site.get(s.id, 0),
                power_today=page.power.get(s.id, []),
            )
            for s in page.sites
        ]
        return cls(
            total=page.total,
            counts=FleetCounts(**{k: page.counts.get(k, 0) for k in db_fleet.FLEET_STATES}),
            sites_offline=page.counts.get(db_fleet.OFFLINE, 0),
            today_energy_kwh=page.fleet_today_kwh,
            open_alerts=page.open_alerts,
            items=items,
        )


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
            page = await service.fleet_page(
                session,
                status.value if status else None,
                search,
                sort.value,
                first,
                offset,
                scope=scope(info),
            )
        return FleetPage.from_page(page)
