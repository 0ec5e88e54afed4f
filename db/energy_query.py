"""A point's energy buckets (15 min, hour, local day, local month) from its raw readings, one page at a time.

Each page reads the readings of a window of buckets plus the usable reading just before and just after it
(so edges and gaps are split exactly as over the whole history) and runs db.consumption.energy_buckets.
Pages are keyed by bucket start (db.readings_query cursors).
"""

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.central_models import DataPoint, Meter, Reading, Site
from db.clock import clock
from db.consumption import energy_buckets
from db.energy import BAD_QUALITY, BUCKET_RESOLUTIONS, TINY, EnergyBucket, Sample, iter_bucket_bounds
from db.engine import asyncpg_connection
from db.errors import NotFound
from db.readings_query import MAX_PAGE, decode_cursor, encode_cursor
from db.tariffs import Tariff, get_tariff
from db.units import kwh_factor

MAX_WINDOW = timedelta(days=32)  # the readings one step of a page reads at most (or one bucket)
INTERVAL_KEY = "interval_seconds"
INTERVAL_SAMPLE = 500  # meters.config: the meter's own reading interval, when known


@dataclass(frozen=True, slots=True)
class EnergyPoint:
    """What bucketing one point needs: its kind, rollover limit, site zone and the meter's interval."""

    point_id: int
    cumulative: bool
    timezone: str
    rollover: float | None
    interval_seconds: float | None
    site_interval_seconds: float
    unit: str | None = None
    tariff: Tariff | None = None

    @property
    def price(self) -> Callable[[datetime], float] | None:
        """Price per unit of the register at an instant (the tariff's per kWh), None without a tariff."""
        factor = kwh_factor(self.unit) if self.cumulative else None
        if self.tariff is None or factor is None:
            return None
        per_kwh = self.tariff.pricer(self.timezone)
        return lambda ts: per_kwh(ts) * factor


async def energy_point(session: AsyncSession, point_id: int) -> EnergyPoint:
    """The point's facts; NotFound when there is no such point."""
    row = (
        await session.execute(
            select(
                DataPoint.name,
                DataPoint.cumulative,
                Meter.config,
                Site.timezone,
                Site.collection_interval_seconds,
                DataPoint.unit,
                Site.id,
            )
            .join(Meter, Meter.id == DataPoint.meter_id)
            .join(Site, Site.id == Meter.site_id)
            .where(DataPoint.id == point_id)
        )
    ).first()
    if row is None:
        raise NotFound(f"no data point with id {point_id}")
    name, cumulative, config, timezone, site_interval, unit, site_id = row
    config = config or {}
    rollover = (config.get("rollover") or {}).get(name)
    interval = config.get(INTERVAL_KEY)
    return EnergyPoint(
        point_id,
        bool(cumulative),
        timezone or "UTC",
        float(rollover) if rollover is not None else None,
        float(interval) if interval else None,
        float(site_interval or 60.0),
        unit,
        await get_tariff(session, site_id),
    )


def meter_interval(point: EnergyPoint, samples: list[Sample]) -> timedelta:
    """The meter's own interval: configured, else the median spacing of its readings, else the site's."""
    if point.interval_seconds:
        return timedelta(seconds=point.interval_seconds)
    stamps = sorted({s.ts for s in samples[:INTERVAL_SAMPLE]})  # the page's first readings are enough
    spacings = [(b - a).total_seconds() for a, b in zip(stamps, stamps[1:], strict=False)]
    return timedelta(seconds=statistics.median(spacings) if spacings else point.site_interval_seconds)


_WINDOW_PG = """
(SELECT ts, value, quality FROM readings WHERE point_id = $1 AND ts < $2 AND quality < 2 ORDER BY ts DESC LIMIT 1)
UNION ALL
(SELECT ts, value, quality FROM readings WHERE point_id = $1 AND ts >= $2 AND ts < $3 ORDER BY ts)
UNION ALL
(SELECT ts, value, quality FROM readings WHERE point_id = $1 AND ts >= $3 AND quality < 2 ORDER BY ts LIMIT 1)
"""


async def _window(
    session: AsyncSession, point_id: int, lo: datetime, hi: datetime
) -> tuple[list[Sample], bool]:
    """Readings in [lo, hi) with the usable neighbours outside it; whether any reading follows hi."""
    if session.bind.dialect.name == "postgresql":
        # One round trip straight through asyncpg: a month of one-minute rows is 44,000 rows, and
        # SQLAlchemy's row processing cost several times the query itself.
        rows = await (await asyncpg_connection(session)).fetch(_WINDOW_PG, point_id, lo, hi)
        samples = [Sample(*row) for row in rows]
        return samples, any(s.ts >= hi for s in samples)
    base = select(Reading.ts, Reading.value, Reading.quality).where(Reading.point_id == point_id)
    usable = base.where(Reading.quality < BAD_QUALITY)
    inside = await session.execute(base.where(Reading.ts >= lo, Reading.ts < hi).order_by(Reading.ts))
    before = await session.execute(usable.where(Reading.ts < lo).order_by(Reading.ts.desc()).limit(1))
    after = await session.execute(usable.where(Reading.ts >= hi).order_by(Reading.ts).limit(1))
    tail = after.all()
    rows = [*before.all(), *inside.all(), *tail]
    return [Sample(ts, value, quality) for ts, value, quality in rows], bool(tail)


async def _next_reading(session: AsyncSession, point_id: int, at: datetime) -> datetime | None:
    return await session.scalar(
        select(Reading.ts).where(Reading.point_id == point_id, Reading.ts >= at).order_by(Reading.ts).limit(1)
    )


async def energy_page(
    session: AsyncSession,
    point: EnergyPoint,
    start: datetime,
    end: datetime,
    resolution: str,
    first: int = 1000,
    after: str | None = None,
) -> tuple[list[EnergyBucket], str | None]:
    """One page of buckets overlapping [start, end) and the cursor of the next page (None on the last)."""
    if resolution not in BUCKET_RESOLUTIONS:
        raise ValueError(f"resolution must be one of {', '.join(BUCKET_RESOLUTIONS)}")
    if not 1 <= first <= MAX_PAGE:
        raise ValueError(f"first must be between 1 and {MAX_PAGE}")
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must carry a time zone")
    if end <= start:
        raise ValueError("end must be after start")
    lo = start if after is None else max(start, decode_cursor(after) + TINY)
    now = clock().now()
    out: list[EnergyBucket] = []
    while lo < end and len(out) <= first:
        chunk = list(islice(iter_bucket_bounds(lo, end, resolution, point.timezone), first + 1 - len(out)))
        chunk = [b for b in chunk if after is None or b[0] > decode_cursor(after)]
        if not chunk:
            break
        # At most about a month of readings in memory at once (a year of one-minute rows is 525,600).
        chunk = [b for b in chunk if b[1] - chunk[0][0] <= MAX_WINDOW] or chunk[:1]
        samples, more = await _window(session, point.point_id, chunk[0][0], chunk[-1][1])
        inside = [s for s in samples if chunk[0][0] <= s.ts < chunk[-1][1]]
        if not inside and not (point.cumulative and more and any(s.ts < chunk[0][0] for s in samples)):
            nxt = await _next_reading(session, point.point_id, chunk[-1][1])
            if nxt is None or nxt >= end:
                break
            lo = nxt  # skip the empty stretch: no bucket without a reading in or around it
            continue
        interval = meter_interval(point, samples)
        out += energy_buckets(
            samples,
            chunk,
            cumulative=point.cumulative,
            interval=interval,
            now=now,
            rollover=point.rollover,
            price=point.price,
            timezone=point.timezone,
        )
        lo = chunk[-1][1]
    if resolution == "month" and point.price is not None:
        rate = kwh_factor(point.unit) * point.tariff.demand_charge_per_kw
        for bucket in out:
            if bucket.peak_demand is not None:  # kW of the month's highest quarter, at the tariff's rate
                bucket.demand_cost = bucket.peak_demand * rate
    if len(out) > first:
        out = out[:first]
        return out, encode_cursor(out[-1].start)
    return out, None
