"""A point's energy buckets (15 min, hour, local day, local month) from its raw readings, one page at a time.

Each page reads the readings of a window of buckets plus the usable reading just before and just after it
(so edges and gaps are split exactly as over the whole history) and runs db.energy.consumption.energy_buckets.
Pages are keyed by bucket start (db.central.storage.readings_query cursors).
"""

import json
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.central.energy_parts import buckets_from_parts
from db.central.energy_read import (
    INTERVAL_SAMPLE,
    MAX_WINDOW,
    next_reading,
    read_window,
    summary_parts,
    summary_state,
)
from db.central.energy_snapshot import summary_snapshots
from db.central.models import DataPoint, Meter, Reading, Site
from db.central.storage.readings_query import MAX_PAGE, decode_cursor, encode_cursor
from db.central.tariffs import SiteTariff, Tariff, make_tariff, tariff_of
from db.clock import clock
from db.energy import BUCKET_RESOLUTIONS, GAP_FACTOR, TINY, EnergyBucket, iter_bucket_bounds
from db.energy.consumption import energy_buckets
from db.energy.units import kwh_factor
from db.engine import driver_connection
from db.errors import NotFound

INTERVAL_KEY = "interval_seconds"


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


# The same facts as energy_point's ORM select, straight through asyncpg (a third of its client CPU).
_FACTS_PG = """
SELECT dp.id, dp.name, dp.cumulative, m.config::text, s.timezone, s.collection_interval_seconds, dp.unit,
  t.currency, t.default_price_per_kwh, t.demand_charge_per_kw, t.bands::text
FROM data_points dp JOIN meters m ON m.id = dp.meter_id JOIN sites s ON s.id = m.site_id
LEFT JOIN site_tariffs t ON t.site_id = s.id
WHERE dp.id = ANY($1::bigint[])
"""


async def energy_points(session: AsyncSession, point_ids: list[int]) -> dict[int, EnergyPoint]:
    """The facts of the points that exist, by id (one statement on PostgreSQL)."""
    if session.bind.dialect.name != "postgresql":
        out = {}
        for point_id in point_ids:
            try:
                out[point_id] = await energy_point(session, point_id)
            except NotFound:
                pass
        return out
    # A read needs no BEGIN of its own: inside the caller's transaction if one is open, else autocommit.
    rows = await (await driver_connection(session)).fetch(_FACTS_PG, list(point_ids))
    out = {}
    for row in rows:
        currency, price, demand, bands = row[7:]
        tariff = None
        if currency is not None:
            tariff = make_tariff(currency, price, demand, json.loads(bands) if bands else [])
        config = (json.loads(row[3]) if row[3] else None) or {}
        out[row[0]] = _facts(row[0], row[1], row[2], config, *row[4:7], tariff)
    return out


async def energy_point(session: AsyncSession, point_id: int) -> EnergyPoint:
    """The point's facts; NotFound when there is no such point."""
    if session.bind.dialect.name == "postgresql":
        found = (await energy_points(session, [point_id])).get(point_id)
        if found is None:
            raise NotFound(f"no data point with id {point_id}")
        return found
    row = (
        await session.execute(
            select(
                DataPoint.name,
                DataPoint.cumulative,
                Meter.config,
                Site.timezone,
                Site.collection_interval_seconds,
                DataPoint.unit,
                SiteTariff,
            )
            .join(Meter, Meter.id == DataPoint.meter_id)
            .join(Site, Site.id == Meter.site_id)
            .outerjoin(SiteTariff, SiteTariff.site_id == Site.id)
            .where(DataPoint.id == point_id)
        )
    ).first()
    if row is None:
        raise NotFound(f"no data point with id {point_id}")
    name, cumulative, config, timezone, site_interval, unit, tariff = row
    return _facts(
        point_id,
        name,
        cumulative,
        config or {},
        timezone,
        site_interval,
        unit,
        tariff_of(tariff) if tariff is not None else None,
    )


def _facts(point_id, name, cumulative, config, timezone, site_interval, unit, tariff) -> EnergyPoint:
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
        tariff,
    )


async def meter_interval(
    session: AsyncSession, point: EnergyPoint, at: datetime, first: list[datetime] | None = None
) -> timedelta:
    """The meter's own interval: configured, else the median spacing of its first readings from `at`
    (of its newest before `at` when fewer follow), else the site's collection interval.

    first: the times of its first INTERVAL_SAMPLE readings from `at`, when already read.
    """
    if point.interval_seconds:
        return timedelta(seconds=point.interval_seconds)
    base = select(Reading.ts).where(Reading.point_id == point.point_id).limit(INTERVAL_SAMPLE)
    stamps = first if first is not None else None
    if stamps is None:
        stamps = list(await session.scalars(base.where(Reading.ts >= at).order_by(Reading.ts)))
    if len(stamps) < 2:
        stamps = sorted(await session.scalars(base.where(Reading.ts < at).order_by(Reading.ts.desc())))
    spacings = [(b - a).total_seconds() for a, b in zip(stamps, stamps[1:], strict=False)]
    return timedelta(seconds=statistics.median(spacings) if spacings else point.site_interval_seconds)


async def energy_page(
    session: AsyncSession,
    point: EnergyPoint,
    start: datetime,
    end: datetime,
    resolution: str,
    first: int = 1000,
    after: str | None = None,
    *,
    summary: bool = True,
) -> tuple[list[EnergyBucket], str | None]:
    """One page of buckets overlapping [start, end) and the cursor of the next page (None on the last).

    summary=False reads raw readings only (the benchmark's baseline; the answers are the same).
    """
    _check(start, end, resolution, first)
    page = _Page(point, start, end, resolution, first, after, clock().now())
    snapshot = None
    if summary and page.summary and page.chunk and session.bind.dialect.name == "postgresql":
        # One round trip for the state, the interval and the first chunk's stored rows and raw edges.
        snapshot = (await summary_snapshots(session, [point], page.chunk, resolution, start, page.now))[
            point.point_id
        ]
    return await _read_page(session, page, snapshot, summary)


async def energy_pages(
    session: AsyncSession, points: list[EnergyPoint], start: datetime, end: datetime, resolution: str
) -> dict[int, list[EnergyBucket]]:
    """Every bucket of each point over [start, end) (energy_page's answers, all pages), by point id.

    On PostgreSQL the first page of all points of one zone is read in one statement.
    """
    _check(start, end, resolution, MAX_PAGE)
    now = clock().now()
    zones: dict[str, list[EnergyPoint]] = {}
    for point in points:
        zones.setdefault(point.timezone, []).append(point)
    out = {}
    for group in zones.values():
        pages = [_Page(p, start, end, resolution, MAX_PAGE, None, now) for p in group]
        snapshots = {}
        if pages[0].summary and pages[0].chunk and session.bind.dialect.name == "postgresql":
            snapshots = await summary_snapshots(session, group, pages[0].chunk, resolution, start, now)
        for page in pages:
            buckets, after = await _read_page(session, page, snapshots.get(page.point.point_id), True)
            while after is not None:
                more, after = await energy_page(session, page.point, start, end, resolution, MAX_PAGE, after)
                buckets += more
            out[page.point.point_id] = buckets
    return out


def _check(start: datetime, end: datetime, resolution: str, first: int) -> None:
    if resolution not in (*BUCKET_RESOLUTIONS, "minute"):  # minutes: a register's readings per minute
        raise ValueError(f"resolution must be one of {', '.join(BUCKET_RESOLUTIONS)}")
    if not 1 <= first <= MAX_PAGE:
        raise ValueError(f"first must be between 1 and {MAX_PAGE}")
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must carry a time zone")
    if end <= start:
        raise ValueError("end must be after start")


class _Page:
    """One page being read: the point, its range and the first chunk of bucket bounds."""

    def __init__(self, point, start, end, resolution, first, after, now):
        self.point, self.start, self.end, self.resolution = point, start, end, resolution
        self.first, self.after, self.now = first, after, now
        self.lo = start if after is None else max(start, decode_cursor(after) + TINY)
        self.summary = resolution != "minute"  # the summary's parts are quarters
        self.chunk = self.next_chunk(self.lo, first + 1) if self.lo < end else []

    def next_chunk(self, lo: datetime, wanted: int) -> list[tuple[datetime, datetime]]:
        """Up to `wanted` bucket bounds from lo on (after the cursor)."""
        chunk = list(islice(iter_bucket_bounds(lo, self.end, self.resolution, self.point.timezone), wanted))
        return [b for b in chunk if self.after is None or b[0] > decode_cursor(self.after)]


async def _read_page(session, page: _Page, snapshot, summary: bool) -> tuple[list[EnergyBucket], str | None]:
    point, start, end, resolution, first = page.point, page.start, page.end, page.resolution, page.first
    lo, chunk, now = page.lo, page.chunk, page.now
    use_summary = summary and page.summary
    if snapshot is not None:
        state = snapshot.state
        # the interval is sampled from the query's start on every page, so all pages of one answer agree
        if not point.interval_seconds and snapshot.spacings is not None:
            seconds = [d.total_seconds() for d in snapshot.spacings]  # the middle one(s): statistics.median
            interval = timedelta(seconds=seconds[0] if len(seconds) == 1 else (seconds[0] + seconds[1]) / 2)
        else:
            interval = await meter_interval(session, point, start)
    else:
        state, stamps = await summary_state(session, point.point_id, lo) if use_summary else (None, None)
        interval = await meter_interval(session, point, start, stamps if lo == start else None)
    step = _summary_step if state is not None else _raw_step
    out: list[EnergyBucket] = []
    while lo < end and len(out) <= first:
        if not chunk:
            chunk = page.next_chunk(lo, first + 1 - len(out))
        if not chunk:
            break
        buckets, lo = await step(session, point, state, chunk, resolution, interval, now, snapshot)
        chunk, snapshot = [], None
        out += buckets
        if lo is None:
            break
    if resolution == "month" and point.price is not None:
        rate = kwh_factor(point.unit) * point.tariff.demand_charge_per_kw
        for bucket in out:
            if bucket.peak_demand is not None:  # kW of the month's highest quarter, at the tariff's rate
                bucket.demand_cost = bucket.peak_demand * rate
    if len(out) > first:
        out = out[:first]
        return out, encode_cursor(out[-1].start)
    return out, None


async def _summary_step(session, point, state, chunk, resolution, interval, now, snapshot=None):
    """Buckets of the chunk from the stored summary and raw edges; where the next chunk starts."""
    gap = GAP_FACTOR * interval.total_seconds()
    days = resolution in ("day", "month")
    parts = await summary_parts(session, point, state, chunk[0][0], chunk[-1][1], days, gap, now, snapshot)
    buckets = buckets_from_parts(parts, chunk, cumulative=point.cumulative, now=now, price=point.price)
    if buckets:
        return buckets, chunk[-1][1]
    return buckets, await next_reading(session, point.point_id, chunk[-1][1])


async def _raw_step(session, point, state, chunk, resolution, interval, now, snapshot=None):
    """Buckets of the chunk from raw readings (at most about a month at once); where the next chunk starts."""
    # At most about a month of readings in memory at once (a year of one-minute rows is 525,600).
    chunk = [b for b in chunk if b[1] - chunk[0][0] <= MAX_WINDOW] or chunk[:1]
    samples, more = await read_window(session, point.point_id, chunk[0][0], chunk[-1][1])
    inside = [s for s in samples if chunk[0][0] <= s.ts < chunk[-1][1]]
    if not inside and not (point.cumulative and more and any(s.ts < chunk[0][0] for s in samples)):
        return [], await next_reading(session, point.point_id, chunk[-1][1])  # skip the empty stretch
    buckets = energy_buckets(
        samples,
        chunk,
        cumulative=point.cumulative,
        interval=interval,
        now=now,
        rollover=point.rollover,
        price=point.price,
        timezone=point.timezone,
    )
    return buckets, chunk[-1][1]
