"""Readings of one meter's point over a time range: raw or averaged per minute/hour/day, cursor-paged."""

from datetime import date, datetime

import strawberry
from strawberry.experimental.pydantic import type as pydantic_type
from strawberry.types import Info

from api.schema.ids import to_int
from api.schema.permissions import IsAuthenticated, scope
from api.schema.types import DataQuality, EnergyResolution, Resolution, TotalResolution
from api.services import readings as service
from db.central.energy_totals import fleet_totals
from db.central.storage.readings_query import ReadingRow


@pydantic_type(
    model=ReadingRow,
    all_fields=True,
    description="A raw reading, or one bucket: the mean with min, max and count; for a cumulative register "
    "(kWh counter) the consumption in the bucket with its first/last register value and completeness.",
)
class ReadingValue:
    data_quality: DataQuality | None = strawberry.field(
        default=None, description="quality by name: GOOD, UNCERTAIN (estimated or mixed), BAD (all bad)"
    )


@strawberry.type
class PageInfo:
    """Whether another page follows, and the cursor to ask for it with `after`."""

    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class ReadingPage:
    """One page of readings."""

    items: list[ReadingValue]
    page_info: PageInfo


@strawberry.type
class EnergyBucket:
    """One point over one bucket [start, end) in the site's local time.

    Cumulative registers: consumption (edges split by time between the readings around them; gaps spread
    over the gap and marked partial), first/last register value and peak demand = 4 x the highest
    15-minute consumption. Instantaneous points: mean, min, max and the highest 15-minute mean (demand).
    completeness is the share of the bucket up to now covered by the meter's readings.
    """

    start: datetime
    end: datetime
    count: int
    mean: float | None
    min: float | None
    max: float | None
    first_value: float | None
    last_value: float | None
    consumption: float | None
    completeness: float | None
    peak_demand: float | None
    peak_demand_at: datetime | None
    quality: DataQuality
    partial: bool
    cost: float | None = strawberry.field(description="Energy cost at the site's tariff (null without one)")
    demand_cost: float | None = strawberry.field(
        description="MONTH buckets: the tariff's demand charge on the month's peak 15-minute demand"
    )


@strawberry.type
class EnergyPage:
    """One page of energy buckets, with the point's kind."""

    items: list[EnergyBucket]
    page_info: PageInfo
    cumulative: bool
    timezone: str
    currency: str | None


def energy_item(b) -> EnergyBucket:
    """A GraphQL bucket from a db.energy.EnergyBucket."""
    return EnergyBucket(
        start=b.start,
        end=b.end,
        count=b.count,
        mean=b.mean,
        min=b.min,
        max=b.max,
        first_value=b.first_value,
        last_value=b.last_value,
        consumption=b.consumption,
        completeness=b.completeness,
        peak_demand=b.peak_demand,
        peak_demand_at=b.peak_demand_at,
        quality=DataQuality(b.quality),
        partial=b.completeness is not None and b.completeness < 1.0 - 1e-9,
        cost=b.cost,
        demand_cost=b.demand_cost,
    )


@strawberry.type
class EnergyTotal:
    """kWh of one site or of the fleet over one local day or month (labelled by its first date)."""

    label: date
    kwh: float
    quality: DataQuality
    points: int


@strawberry.type
class SiteEnergy:
    """One site's totals."""

    site_id: strawberry.ID
    totals: list[EnergyTotal]


@strawberry.type
class EnergyTotals:
    """Per site and for the fleet: the fleet's total of a date is the sum of the sites' totals of that date."""

    sites: list[SiteEnergy]
    fleet: list[EnergyTotal]


def _total(t) -> EnergyTotal:
    return EnergyTotal(label=t.label, kwh=t.kwh, quality=DataQuality(t.quality), points=t.points)


@strawberry.type
class ReadingsQuery:
    """Queries of stored readings."""

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def readings(
        self,
        info: Info,
        meter_id: strawberry.ID,
        point: str,
        start: datetime,
        end: datetime,
        resolution: Resolution = Resolution.RAW,
        first: int = 1000,
        after: str | None = None,
    ) -> ReadingPage:
        """Readings in [start, end), oldest first; pass pageInfo.endCursor as `after` for the next page."""
        async with info.context.session() as session:
            rows, cursor = await service.readings(
                session, to_int(meter_id, "meter id"), point, start, end, resolution.value, first, after,
                scope=scope(info),
            )  # fmt: skip
        return ReadingPage(
            items=[
                ReadingValue.from_pydantic(
                    r,
                    extra={
                        "data_quality": None if r.quality is None else DataQuality(min(max(r.quality, 0), 2))
                    },
                )
                for r in rows
            ],
            page_info=PageInfo(has_next_page=cursor is not None, end_cursor=cursor),
        )

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def energy(
        self,
        info: Info,
        meter_id: strawberry.ID,
        point: str,
        start: datetime,
        end: datetime,
        resolution: EnergyResolution = EnergyResolution.HOUR,
        first: int = 1000,
        after: str | None = None,
    ) -> EnergyPage:
        """Consumption/demand buckets overlapping [start, end), oldest first; paged like readings."""
        async with info.context.session() as session:
            rows, cursor, facts = await service.energy(
                session, to_int(meter_id, "meter id"), point, start, end, resolution.value, first, after,
                scope=scope(info),
            )  # fmt: skip
        return EnergyPage(
            items=[energy_item(b) for b in rows],
            page_info=PageInfo(has_next_page=cursor is not None, end_cursor=cursor),
            cumulative=facts.cumulative,
            timezone=facts.timezone,
            currency=facts.tariff.currency if facts.tariff and facts.price else None,
        )

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def energy_totals(
        self,
        info: Info,
        site_ids: list[strawberry.ID],
        first_day: date,
        last_day: date,
        resolution: TotalResolution = TotalResolution.DAY,
    ) -> EnergyTotals:
        """kWh per site and fleet for the local days (or months) first_day..last_day of each site."""
        ids = [to_int(i, "site id") for i in site_ids]
        async with info.context.session() as session:
            by_site = await service.energy_totals(
                session, ids, first_day, last_day, resolution.value, scope=scope(info)
            )
        return EnergyTotals(
            sites=[
                SiteEnergy(site_id=strawberry.ID(str(k)), totals=[_total(t) for t in v])
                for k, v in by_site.items()
            ],
            fleet=[_total(t) for t in fleet_totals(by_site)],
        )
