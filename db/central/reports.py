"""Data access of reports: the sites' points, their rollup buckets in a window, and each point's peak."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
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


@dataclass(frozen=True)
class Bucket:
    """One rollup bucket of one point."""

    point_id: int
    start: datetime
    count: int
    consumption: float | None
    max_value: float | None
    reset_count: int
    first_ts: datetime | None = None
    last_ts: datetime | None = None


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


async def buckets(
    session: AsyncSession, point_ids: list[int], start: datetime, end: datetime, resolution: str
) -> list[Bucket]:
    """Rollup buckets (HOUR: UTC hours, DAY: site-local days) starting in [start, end)."""
    if not point_ids:
        return []
    model = HourlyRollup if resolution == "HOUR" else DailyRollup
    rows = await session.execute(
        select(
            model.point_id,
            model.bucket,
            model.count,
            model.consumption,
            model.max_value,
            model.reset_count,
            model.first_ts,
            model.last_ts,
        )
        .where(model.point_id.in_(point_ids), model.bucket >= start, model.bucket < end)
        .order_by(model.point_id, model.bucket)
    )
    return [Bucket(*row) for row in rows]


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


async def peak(
    session: AsyncSession, point_id: int, start: datetime, end: datetime
) -> tuple[datetime, float] | None:
    """Highest good reading of a point in [start, end) and when: the hourly rollup finds the hour, raw the instant."""
    hour = (
        await session.execute(
            select(HourlyRollup.bucket, HourlyRollup.max_value)
            .where(
                HourlyRollup.point_id == point_id,
                HourlyRollup.bucket >= start - timedelta(hours=1),
                HourlyRollup.bucket < end,
                HourlyRollup.max_value.is_not(None),
            )
            .order_by(HourlyRollup.max_value.desc(), HourlyRollup.bucket)
            .limit(1)
        )
    ).first()
    lo, hi = (max(start, hour[0]), min(end, hour[0] + timedelta(hours=1))) if hour else (start, end)
    row = (
        await session.execute(
            select(Reading.ts, Reading.value)
            .where(
                Reading.point_id == point_id, Reading.ts >= lo, Reading.ts < hi, Reading.quality < BAD_QUALITY
            )
            .order_by(Reading.value.desc(), Reading.ts)
            .limit(1)
        )
    ).first()
    if row is not None:
        return row[0], float(row[1])
    # Raw readings of that hour were dropped by retention: the hour's maximum is all that is left.
    return (hour[0], float(hour[1])) if hour and start <= hour[0] < end else None
