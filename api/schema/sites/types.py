"""Site types: a site with its live status, a created site's key, the fleet overview's page."""

from enum import Enum

import strawberry
from strawberry.experimental.pydantic import type as pydantic_type
from strawberry.types import Info

from api.schema.meters.types import Meter
from api.services.sites import SiteInfo
from db.central import fleet as db_fleet
from db.central import models


@pydantic_type(model=SiteInfo, all_fields=True)
class Site:
    """A building with an edge agent, and its live status (the fields of api/services/sites.py SiteInfo)."""

    id: strawberry.ID
    _row: strawberry.Private[models.Site]
    _today_kwh: strawberry.Private[float | None | bool] = False  # False: not loaded in advance

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


def _site_from_model(
    cls, site: models.Site, counts: tuple[int, int] = (0, 0), today_kwh: float | None | bool = False
) -> Site:
    """From a sites row, its (meters, reachable meters) counts and, when known, today's kWh."""
    info = SiteInfo.of(site, counts, None if today_kwh is False else today_kwh)
    return cls.from_pydantic(info, extra={"_row": site, "_today_kwh": today_kwh})


# Strawberry's pydantic types drop class methods: from_model is set on the derived type.
Site.from_model = classmethod(_site_from_model)
# Strawberry lists a field the model lacks first; `meters` stays last, where the schema has always had it.
Site.__strawberry_definition__.fields.sort(key=lambda field: field.python_name == "meters")


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
        description="mean kW of each hour since the site's local midnight, summed over its power points (the "
        "energy query's hour means: usable readings only); null for an hour without data"
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
