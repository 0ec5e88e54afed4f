"""Reading rollups back: a point's hourly/daily series and the sites' energy since local midnight."""

from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import Date, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.central.models import DataPoint, Meter, Reading, Site
from db.central.rollups.models import DailyRollup, HourlyRollup
from db.energy import local_day
from db.energy.units import kwh_factor

RESOLUTIONS = {"HOUR": HourlyRollup, "DAY": DailyRollup}


def rollup_select(point_id: int, start: datetime, end: datetime, resolution: str):
    """SELECT of a point's buckets overlapping [start, end), oldest first (HOUR or DAY)."""
    model = RESOLUTIONS[resolution]
    if model is DailyRollup:
        overlaps = (model.bucket_end > start, model.bucket < end)
    else:
        overlaps = (model.bucket > start - timedelta(hours=1), model.bucket < end)
    return select(model).where(model.point_id == point_id, *overlaps).order_by(model.bucket)


def bucket_quality(count: int, good_count: int, usable: bool = False) -> int:
    """0 when every reading of a bucket was good; 2 only when none was usable (all bad); 1 otherwise.

    The rollups count good (0) readings only, so a bucket without any says `usable` (an estimated reading
    of quality 1 is uncertain, not bad).
    """
    if good_count == count:
        return 0
    return 1 if good_count > 0 or usable else 2


async def _usable_buckets(
    session: AsyncSession, point_id: int, spans: list[tuple[datetime, datetime]]
) -> set:
    """Starts of the spans holding a usable (quality < 2) raw reading."""
    found = set()
    for start, end in spans:
        hit = await session.scalar(
            select(Reading.ts)
            .where(Reading.point_id == point_id, Reading.ts >= start, Reading.ts < end, Reading.quality < 2)
            .limit(1)
        )
        if hit is not None:
            found.add(start)
    return found


async def rollup_page(
    session: AsyncSession,
    point_id: int,
    start: datetime,
    end: datetime,
    resolution: str,
    after: datetime | None,
    limit: int,
) -> list[tuple]:
    """(bucket, mean, min, max, count, quality) of buckets with readings, for db.central.storage.readings_query pages."""
    model = RESOLUTIONS[resolution.upper()]
    end_column = model.bucket_end if model is DailyRollup else model.bucket
    columns = (
        model.bucket,
        model.sum_value,
        model.min_value,
        model.max_value,
        model.count,
        model.good_count,
        end_column,
    )
    query = rollup_select(point_id, start, end, resolution.upper()).with_only_columns(*columns)
    query = query.where(model.count > 0)
    if after is not None:
        query = query.where(model.bucket > after)
    rows = (await session.execute(query.limit(limit))).all()
    unsure = [
        (b, e if model is DailyRollup else b + timedelta(hours=1)) for b, *_, n, good, e in rows if good == 0
    ]
    usable = await _usable_buckets(session, point_id, unsure) if unsure else set()
    return [
        (b, total / n, lo, hi, n, bucket_quality(n, good, b in usable))
        for b, total, lo, hi, n, good, _ in rows
    ]


async def rollup_series(
    session: AsyncSession, point_id: int, start: datetime, end: datetime, resolution: str
) -> list:
    """A point's HourlyRollup or DailyRollup rows overlapping [start, end)."""
    return list((await session.scalars(rollup_select(point_id, start, end, resolution))).all())


async def stream_rollups(
    session: AsyncSession, point_id: int, start: datetime, end: datetime, resolution: str
) -> AsyncIterator:
    """The same rows as rollup_series, fetched in chunks (for exports of long ranges)."""
    result = await session.stream_scalars(
        rollup_select(point_id, start, end, resolution).execution_options(yield_per=2000)
    )
    async for row in result:
        yield row


async def today_energy_by_site(
    session: AsyncSession, site_ids: Iterable[int], now: datetime
) -> dict[int, float]:
    """kWh per site since its local midnight, from the daily rollups of cumulative energy points."""
    site_ids = list(site_ids)
    if session.bind.dialect.name == "postgresql":
        return await _today_energy_pg(session, site_ids, now)
    zones = dict((await session.execute(select(Site.id, Site.timezone).where(Site.id.in_(site_ids)))).all())
    by_day: dict[date, list[int]] = defaultdict(list)
    for site_id, tz in zones.items():
        by_day[local_day(now, tz or "UTC")].append(site_id)
    energy = dict.fromkeys(zones, 0.0)
    for day, sites in by_day.items():
        rows = await session.execute(
            select(Meter.site_id, DataPoint.unit, func.sum(DailyRollup.consumption))
            .join(DataPoint, DataPoint.meter_id == Meter.id)
            .join(DailyRollup, DailyRollup.point_id == DataPoint.id)
            .where(Meter.site_id.in_(sites), DataPoint.cumulative, DailyRollup.day == day)
            .group_by(Meter.site_id, DataPoint.unit)
        )
        for site_id, unit, total in rows:
            factor = kwh_factor(unit)
            if factor is not None and total is not None:
                energy[site_id] += total * factor
    return energy


async def _today_energy_pg(session: AsyncSession, site_ids: list[int], now: datetime) -> dict[int, float]:
    """One round trip: each site's local day computed by PostgreSQL from sites.timezone."""
    local_today = cast(func.timezone(Site.timezone, now), Date)
    rows = await session.execute(
        select(Site.id, DataPoint.unit, func.sum(DailyRollup.consumption))
        .select_from(Site)
        .outerjoin(Meter, Meter.site_id == Site.id)
        .outerjoin(DataPoint, (DataPoint.meter_id == Meter.id) & DataPoint.cumulative)
        .outerjoin(DailyRollup, (DailyRollup.point_id == DataPoint.id) & (DailyRollup.day == local_today))
        .where(Site.id.in_(site_ids))
        .group_by(Site.id, DataPoint.unit)
    )
    energy: dict[int, float] = {}
    for site_id, unit, total in rows:
        factor = kwh_factor(unit)
        energy[site_id] = energy.get(site_id, 0.0) + (total * factor if factor and total is not None else 0.0)
    return energy
