"""Data access of reports: the sites' points, their registers' counter resets, a point's highest reading."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.central.models import DataPoint, Meter, Reading, Site
from db.central.rollups.models import DailyRollup, HourlyRollup

BAD_QUALITY = 2


@dataclass(frozen=True)
class ReportPoint:
    """One data point of a reported meter."""

    site_id: int
    meter_id: int
    external_id: str
    meter_name: str
    point_id: int
    point_name: str
    unit: str | None
    cumulative: bool
    meter_config: dict | None = None

    @property
    def interval_seconds(self) -> float | None:
        """The meter's own reading interval when configured (meters.config.interval_seconds)."""
        value = (self.meter_config or {}).get("interval_seconds")
        return float(value) if value else None


async def report_sites(session: AsyncSession, site_ids: list[int] | None) -> list[Site]:
    """The sites asked for (every site when None), by name."""
    query = select(Site).order_by(Site.name)
    if site_ids is not None:
        query = query.where(Site.id.in_(site_ids))
    return list(await session.scalars(query))


async def report_points(session: AsyncSession, site_ids: list[int]) -> list[ReportPoint]:
    """Points of the enabled meters of these sites."""
    rows = await session.execute(
        select(
            Meter.site_id,
            Meter.id,
            Meter.external_id,
            Meter.name,
            DataPoint.id,
            DataPoint.name,
            DataPoint.unit,
            DataPoint.cumulative,
            Meter.config,
        )
        .join(DataPoint, DataPoint.meter_id == Meter.id)
        .where(Meter.site_id.in_(site_ids), Meter.enabled.is_(True))
        .order_by(Meter.site_id, Meter.external_id, DataPoint.name)
    )
    return [ReportPoint(*row) for row in rows]


async def counter_resets(
    session: AsyncSession, point_ids: list[int], start: datetime, end: datetime, resolution: str
) -> dict[int, int]:
    """Resets and rollovers of each register counted by its rollup buckets (HOUR: UTC hours, DAY: site-local
    days) starting in [start, end): the one figure of a report the energy summary does not hold."""
    if not point_ids:
        return {}
    model = HourlyRollup if resolution == "HOUR" else DailyRollup
    rows = await session.execute(
        select(model.point_id, func.sum(model.reset_count))
        .where(model.point_id.in_(point_ids), model.bucket >= start, model.bucket < end)
        .group_by(model.point_id)
    )
    return {point_id: int(total or 0) for point_id, total in rows}


async def observed_interval(
    session: AsyncSession, point_id: int, before: datetime, sample: int = 50
) -> float | None:
    """The meter's own interval as seen in its data: median spacing of its last readings before `before`, s."""
    stamps = list(
        await session.scalars(
            select(Reading.ts)
            .where(Reading.point_id == point_id, Reading.ts < before)
            .order_by(Reading.ts.desc())
            .limit(sample)
        )
    )
    spacings = sorted((a - b).total_seconds() for a, b in zip(stamps, stamps[1:], strict=False))
    return spacings[len(spacings) // 2] if spacings else None


async def highest(
    session: AsyncSession, point_id: int, start: datetime, end: datetime
) -> tuple[datetime, float] | None:
    """The highest usable reading of a point in [start, end) and when (the earliest of equals); None without."""
    row = (
        await session.execute(
            select(Reading.ts, Reading.value)
            .where(
                Reading.point_id == point_id,
                Reading.ts >= start,
                Reading.ts < end,
                Reading.quality < BAD_QUALITY,
            )
            .order_by(Reading.value.desc(), Reading.ts)
            .limit(1)
        )
    ).first()
    return (row[0], float(row[1])) if row is not None else None
