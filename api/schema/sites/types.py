"""Site types: a site with its live status, a created site's key, the fleet overview's page."""

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from api.schema.meters.types import Meter
from db.central import fleet as db_fleet
from db.central import models
from db.clock import utcnow
from db.staleness import age_seconds, is_stale


@strawberry.type
class Site:
    """A building with an edge agent, and its live status."""

    id: strawberry.ID
    name: str
    timezone: str
    is_active: bool
    maintenance: bool
    status: str
    last_heartbeat_at: datetime | None
    last_contact_at: datetime | None = strawberry.field(
        description="last request of any kind from the site's edge (upload, heartbeat, config); decides offline"
    )
    queue_depth: int | None
    oldest_queued_age_seconds: float | None
    agent_version: str | None
    meters_total: int
    meters_reachable: int
    allowed_networks: list[str] = strawberry.field(
        description="Networks (CIDR) the site's key is accepted from; empty: any address"
    )
    age_seconds: float | None = strawberry.field(
        description="seconds since the site's edge was last heard from (null: never)"
    )
    stale: bool = strawberry.field(description="not heard from for 3 × its collection interval")
    _row: strawberry.Private[models.Site]
    _today_kwh: strawberry.Private[float | None | bool] = False  # False: not loaded in advance

    @classmethod
    def from_model(
        cls, site: models.Site, counts: tuple[int, int] = (0, 0), today_kwh: float | None | bool = False
    ) -> "Site":
        """From a sites row, its (meters, reachable meters) counts and, when known, today's kWh."""
        health = site.health or {}
        heard = site.last_contact_at or site.last_heartbeat_at
        now = utcnow()
        return cls(
            id=strawberry.ID(str(site.id)),
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
            _row=site,
            _today_kwh=today_kwh,
        )

    @strawberry.field(description="kWh used since local midnight, from cumulative kWh registers")
    async def today_energy_kwh(self, info: Info) -> float | None:
        """Today's energy at this site (loaded with the page by the fleet query)."""
        from api.services.sites import today_energy

        if self._today_kwh is not False:
            return self._today_kwh

        async with info.context.session() as session:
            return await today_energy(session, self._row)

    @strawberry.field
    async def meters(self, info: Info) -> list[Meter]:
        """This site's meters."""
        from api.schema.permissions import scope
        from api.services.meters import meters_with_points

        async with info.context.session() as session:
            rows = await meters_with_points(session, scope(info), int(self.id))
        return [Meter.from_model(m, points, self._row.collection_interval_seconds) for m, points in rows]


@strawberry.type
class CreatedSite:
    """A new site, or a site with a new key: the key is shown here once and never again."""

    site: Site
    api_key: str


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
