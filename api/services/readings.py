"""Readings for dashboards and MCP: one point's values over a time range, raw or per bucket, paged.

Raw rows and an instantaneous point's minutes come from SQL (db/central/storage/readings_query.py); hours,
local days and a cumulative register's minutes are the energy query's buckets (db/central/energy_query.py).

EnergyItem is the one definition of an energy bucket as GraphQL (EnergyBucket) and MCP (query_energy) show it.
"""

from datetime import date, datetime

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import InvalidInput, NotFoundError
from api.services.access import Scope, meter_in_scope
from causes import Cause, text
from db.central.energy_query import EnergyPoint, energy_page, energy_point
from db.central.energy_totals import EnergyTotal, site_totals
from db.central.meters import find_point
from db.central.models import Site
from db.central.storage.readings_query import RESOLUTIONS, ReadingRow, query_readings
from db.energy import EnergyBucket
from db.errors import NotFound

MAX_TOTAL_DAYS = 400


def mcp_only(text: str) -> dict:
    """A field description for MCP's JSON schema only: Strawberry does not read it, the GraphQL schema stays as it was."""
    return {"json_schema_extra": {"description": text}}


class EnergyItem(BaseModel):
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
    consumption: float | None = Field(**mcp_only("edges split by time, gaps spread (partial)"))
    completeness: float | None = Field(**mcp_only("share of the bucket up to now covered"))
    peak_demand: float | None = Field(**mcp_only("highest 15-minute demand (kW for kWh)"))
    peak_demand_at: datetime | None
    quality: int = Field(**mcp_only("0 good, 1 uncertain (partial/estimated), 2 bad"))
    partial: bool
    cost: float | None = Field(description="Energy cost at the site's tariff (null without one)")
    demand_cost: float | None = Field(
        description="MONTH buckets: the tariff's demand charge on the month's peak 15-minute demand"
    )

    @classmethod
    def of(cls, bucket: EnergyBucket) -> "EnergyItem":
        """From the energy query's bucket; partial: less than the whole bucket (up to now) is covered."""
        fields = {name: getattr(bucket, name) for name in cls.model_fields if name != "partial"}
        partial = bucket.completeness is not None and bucket.completeness < 1.0 - 1e-9
        return cls(**fields, partial=partial)


async def readings(
    session: AsyncSession,
    meter_id: int,
    point: str,
    start: datetime,
    end: datetime,
    resolution: str = "raw",
    first: int = 1000,
    after: str | None = None,
    *,
    scope: Scope,
) -> tuple[list[ReadingRow], str | None]:
    """A page of readings and the cursor of the next one (hours and days are the site's local ones).

    Above RAW a cumulative register gives its consumption per bucket, not the mean of its counter; other
    points give the mean, min and max of their usable readings (quality < 2) and the count of all.
    """
    await meter_in_scope(session, scope, meter_id)
    try:
        data_point = await find_point(session, meter_id, point)
    except NotFound as err:
        raise NotFoundError(str(err)) from err
    try:
        return await point_readings(
            session, data_point.id, data_point.cumulative, start, end, resolution, first, after
        )
    except ValueError as err:
        raise InvalidInput(str(err)) from err


async def point_readings(
    session: AsyncSession,
    point_id: int,
    cumulative: bool,
    start: datetime,
    end: datetime,
    resolution: str = "raw",
    first: int = 1000,
    after: str | None = None,
) -> tuple[list[ReadingRow], str | None]:
    """The readings page of a known point (ValueError for a bad resolution, range or cursor)."""
    if resolution not in RESOLUTIONS:
        raise ValueError(f"resolution must be one of {', '.join(RESOLUTIONS)}")
    if resolution == "raw" or (resolution == "minute" and not cumulative):
        return await query_readings(session, point_id, start, end, resolution, first, after)
    facts = await energy_point(session, point_id)
    buckets, cursor = await energy_page(session, facts, start, end, resolution, first, after)
    return [ReadingRow.from_energy(b, facts.cumulative) for b in buckets], cursor


async def energy(
    session: AsyncSession,
    meter_id: int,
    point: str,
    start: datetime,
    end: datetime,
    resolution: str = "hour",
    first: int = 1000,
    after: str | None = None,
    *,
    scope: Scope,
) -> tuple[list[EnergyBucket], str | None, EnergyPoint]:
    """A page of energy buckets (consumption, demand, completeness) in the site's local time."""
    await meter_in_scope(session, scope, meter_id)
    try:
        data_point = await find_point(session, meter_id, point)
        facts = await energy_point(session, data_point.id)
    except NotFound as err:
        raise NotFoundError(str(err)) from err
    try:
        rows, cursor = await energy_page(session, facts, start, end, resolution, first, after)
    except ValueError as err:
        raise InvalidInput(str(err)) from err
    return rows, cursor, facts


async def energy_totals(
    session: AsyncSession,
    site_ids: list[int],
    first_day: date,
    last_day: date,
    resolution: str = "day",
    *,
    scope: Scope,
) -> dict[int, list[EnergyTotal]]:
    """kWh per site and local day/month; NotFoundError for an unknown site or one out of the caller's scope."""
    scope.check_reads_all(site_ids)
    found = set((await session.scalars(select(Site.id).where(Site.id.in_(site_ids)))).all())
    if missing := sorted(set(site_ids) - found):
        raise NotFoundError(text(Cause.UNKNOWN_SITE, site_id=", ".join(map(str, missing))))
    if (last_day - first_day).days > MAX_TOTAL_DAYS:
        raise InvalidInput(f"totals cover at most {MAX_TOTAL_DAYS} days")
    try:
        return await site_totals(session, site_ids, first_day, last_day, resolution)
    except ValueError as err:
        raise InvalidInput(str(err)) from err
