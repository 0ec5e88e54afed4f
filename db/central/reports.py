"""Data access of reports: the sites' points, their registers' counter resets, a point's highest reading."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.central.models import DataPoint, Meter, Reading, Site
from db.central.register_sql import register_wrapped
from db.central.storage.lookups import usable_before
from db.energy import BAD_QUALITY, StepKind, step
from db.engine import asyncpg_connection

WRAPPED = (StepKind.ROLLOVER, StepKind.RESET)


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
    def rollover(self) -> float | None:
        """The register's rollover limit when configured (meters.config.rollover, by point name)."""
        value = ((self.meter_config or {}).get("rollover") or {}).get(self.point_name)
        return float(value) if value is not None else None

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


# Each register's drops that count as a reset or a rollover (db.energy.step: not jitter) between consecutive
# usable readings, over the intervals ending in (lo, hi]: an interval (a, b] lies in the bucket holding its
# last instant, so the usable reading at lo or before starts the first one.
_RESETS = f"""
SELECT p.pid, count(*) FILTER (WHERE {register_wrapped("p.rollover")})
FROM unnest($1::bigint[], $2::float8[]) AS p(pid, rollover)
CROSS JOIN LATERAL (
  SELECT value, lag(value) OVER (ORDER BY ts) AS prev_v FROM (
    (SELECT ts, value FROM readings
     WHERE point_id = p.pid AND ts = {usable_before("p.pid", "$3::timestamptz + interval '1 microsecond'")})
    UNION ALL
    (SELECT ts, value FROM readings WHERE point_id = p.pid AND ts > $3 AND ts <= $4 AND quality < 2 ORDER BY ts)
  ) usable
) r
WHERE r.prev_v IS NOT NULL
GROUP BY p.pid
"""


async def counter_resets(
    session: AsyncSession, rollovers: dict[int, float | None], start: datetime, end: datetime
) -> dict[int, int]:
    """Resets and rollovers of each register (point id: its rollover limit) over [start, end), read from its
    raw readings (those the retention has not dropped): the intervals ending in (start, end]."""
    if not rollovers:
        return {}
    if session.bind.dialect.name == "postgresql":
        conn = await asyncpg_connection(session)
        rows = await conn.fetch(_RESETS, list(rollovers), list(rollovers.values()), start, end)
        return {point_id: int(count) for point_id, count in rows}
    out = {}
    for point_id, rollover in rollovers.items():
        usable = (Reading.point_id == point_id) & (Reading.quality < BAD_QUALITY)
        before = await session.scalar(
            select(Reading.value).where(usable, Reading.ts <= start).order_by(Reading.ts.desc()).limit(1)
        )
        values = await session.scalars(
            select(Reading.value).where(usable, Reading.ts > start, Reading.ts <= end).order_by(Reading.ts)
        )
        out[point_id] = _wraps([before, *values] if before is not None else list(values), rollover)
    return out


def _wraps(values: list[float], rollover: float | None) -> int:
    return sum(step(a, b, rollover)[1] in WRAPPED for a, b in zip(values, values[1:], strict=False))


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
