"""Reading queries: readings (raw or per bucket, cursor-paged), energy and energyTotals."""

from datetime import date, datetime

import strawberry
from strawberry.types import Info

from api.schema.ids import to_int
from api.schema.permissions import IsAuthenticated, scope
from api.schema.readings.types import (
    DataQuality,
    EnergyPage,
    EnergyResolution,
    EnergyTotals,
    PageInfo,
    ReadingPage,
    ReadingValue,
    Resolution,
    SiteEnergy,
    TotalResolution,
    _total,
    energy_item,
)
from api.services import readings as service
from db.central.energy_totals import fleet_totals


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
