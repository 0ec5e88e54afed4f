"""Energy per site and for the fleet per local day or month: the sum of the sites' kWh registers.

Each site's buckets are its own local days (23, 24 or 25 hours) or months; the fleet's bucket of a date is
the sum of every site's bucket labelled with that date, so fleet totals always equal the sum of the sites.
Today's kWh of many sites at once (the fleet overview) has a statement of its own: today_energy_by_site.
"""

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.central.energy_query import energy_pages, energy_points
from db.central.models import DataPoint, Meter, Site
from db.central.register_sql import register_delta
from db.central.storage.lookups import usable_before
from db.energy import QUALITY_GOOD, local_day, local_day_bounds
from db.energy.units import kwh_factor
from db.engine import asyncpg_connection

TOTAL_RESOLUTIONS = ("day", "month")


@dataclass(slots=True)
class EnergyTotal:
    """kWh of one site (or the fleet) over one local day or month, and the worst quality in it."""

    label: date
    kwh: float = 0.0
    quality: int = QUALITY_GOOD
    points: int = 0


async def site_totals(
    session: AsyncSession, site_ids: list[int], first_day: date, last_day: date, resolution: str = "day"
) -> dict[int, list[EnergyTotal]]:
    """Per site: totals of the local days (or months) from first_day to last_day inclusive, oldest first."""
    if resolution not in TOTAL_RESOLUTIONS:
        raise ValueError(f"resolution must be one of {', '.join(TOTAL_RESOLUTIONS)}")
    if last_day < first_day:
        raise ValueError("last_day must not be before first_day")
    rows = await session.execute(
        select(Site.id, Site.timezone, DataPoint.id, DataPoint.unit)
        .join(Meter, Meter.site_id == Site.id)
        .join(DataPoint, DataPoint.meter_id == Meter.id)
        .where(Site.id.in_(site_ids), DataPoint.cumulative)
        .order_by(Site.id, DataPoint.id)
    )
    points: dict[int, list[tuple[int, float]]] = defaultdict(list)
    zones: dict[int, str] = {}
    for site_id, zone, point_id, unit in rows:
        zones[site_id] = zone or "UTC"
        if (factor := kwh_factor(unit)) is not None:
            points[site_id].append((point_id, factor))
    wanted = [point_id for site_id in site_ids for point_id, _ in points.get(site_id, [])]
    # Totals need no cost: without the tariff the buckets are not priced (and runs of stored days are summed).
    facts = {k: replace(f, tariff=None) for k, f in (await energy_points(session, wanted)).items()}
    out = {}
    for site_id in site_ids:
        zone = zones.get(site_id, "UTC")
        lo, _ = local_day_bounds(first_day, zone)
        _, hi = local_day_bounds(last_day, zone)
        mine = [(facts[p], factor) for p, factor in points.get(site_id, []) if p in facts]
        # one statement for the first page of every register of the site (energy_query.energy_pages)
        pages = await energy_pages(session, [f for f, _ in mine], lo, hi, resolution) if mine else {}
        totals: dict[date, EnergyTotal] = {}
        for point, factor in mine:
            for bucket in pages[point.point_id]:
                if bucket.consumption is None:
                    continue
                label = local_day(bucket.start, zone)
                total = totals.setdefault(label, EnergyTotal(label))
                total.kwh += bucket.consumption * factor
                total.quality = max(total.quality, bucket.quality)
                total.points += 1
        out[site_id] = [totals[k] for k in sorted(totals)]
    return out


def fleet_totals(by_site: dict[int, list[EnergyTotal]]) -> list[EnergyTotal]:
    """The sites' totals added up per date label."""
    fleet: dict[date, EnergyTotal] = {}
    for totals in by_site.values():
        for t in totals:
            f = fleet.setdefault(t.label, EnergyTotal(t.label))
            f.kwh += t.kwh
            f.quality = max(f.quality, t.quality)
            f.points += t.points
    return [fleet[k] for k in sorted(fleet)]


# Each kWh register's consumption from its site's local midnight (m) to its newest usable reading, as the
# `energy` query's day bucket has it (F(last) - F(max(m, first)), F the register's curve, linear between
# usable readings, steps by db/energy step): the stored quarters from m to the summary's tail_start (the
# cut) when the summary holds them, then the raw readings from the cut, less the part before the cut of
# the interval across it. One statement for every site: the overview shows them all.
_TODAY = f"""
WITH p AS (
  SELECT s.site_id, dp.id AS pid, dp.unit, s.m, (m.config -> 'rollover' ->> dp.name)::float8 AS rollover,
    CASE WHEN st.folded_from <= s.m AND st.tail_start > s.m THEN st.tail_start ELSE s.m END AS cut
  FROM unnest($1::bigint[], $2::timestamptz[]) AS s(site_id, m)
  JOIN meters m ON m.site_id = s.site_id
  JOIN data_points dp ON dp.meter_id = m.id AND dp.cumulative
  LEFT JOIN energy_summary_state st ON st.point_id = dp.id
)
SELECT p.site_id, p.unit, q.stored, r.raw
FROM p
CROSS JOIN LATERAL (
  SELECT sum(consumption) AS stored FROM (
    SELECT consumption FROM energy_quarters WHERE point_id = p.pid AND q >= p.m AND q < p.cut ORDER BY q
  ) o
) q
CROSS JOIN LATERAL (
  SELECT sum(delta) - coalesce(sum(delta * (extract(epoch FROM p.cut - prev_ts) / extract(epoch FROM ts - prev_ts))
    ::float8) FILTER (WHERE prev_ts < p.cut), 0) AS raw
  FROM (
    SELECT ts, prev_ts, {register_delta("p.rollover")} AS delta
    FROM (
      SELECT ts, value, lag(value) OVER w AS prev_v, lag(ts) OVER w AS prev_ts FROM (
        (SELECT ts, value FROM readings WHERE point_id = p.pid AND ts = {usable_before("p.pid", "p.cut")})
        UNION ALL
        (SELECT ts, value FROM readings WHERE point_id = p.pid AND ts >= p.cut AND quality < 2 ORDER BY ts)
      ) usable
      WINDOW w AS (ORDER BY ts)
    ) stepped
    WHERE prev_ts IS NOT NULL
  ) steps
) r
"""


async def today_energy_by_site(session: AsyncSession, site_ids, now: datetime) -> dict[int, float]:
    """kWh per site from its local midnight to its registers' newest readings: the `energy` query's figure for
    today (0.0 for a site without readings since midnight)."""
    site_ids = list(site_ids)
    zones = dict((await session.execute(select(Site.id, Site.timezone).where(Site.id.in_(site_ids)))).all())
    energy = dict.fromkeys(zones, 0.0)
    if session.bind.dialect.name != "postgresql":  # no stored summary: the energy query reads raw rows
        by_day: dict[date, list[int]] = defaultdict(list)  # sites whose local today is that date
        for site_id, zone in zones.items():
            by_day[local_day(now, zone or "UTC")].append(site_id)
        for day, sites in by_day.items():
            for site_id, totals in (await site_totals(session, sites, day, day)).items():
                energy[site_id] += sum(total.kwh for total in totals)
        return energy
    ids = list(zones)
    midnights = [local_day_bounds(local_day(now, zones[i] or "UTC"), zones[i] or "UTC")[0] for i in ids]
    conn = await asyncpg_connection(session)
    # The estimate of the raw laterals passes jit_above_cost: a new connection's first five runs (custom plans)
    # compiled it, ~220 ms each against 7 ms for 100 sites. For the rest of the caller's transaction (the
    # select above opened it): its other statements are index lookups that JIT does not help either.
    await conn.execute("SELECT set_config('jit', 'off', true)")
    for site_id, unit, stored, raw in await conn.fetch(_TODAY, ids, midnights):
        factor = kwh_factor(unit)
        if factor is not None:
            energy[site_id] += ((stored or 0.0) + (raw or 0.0)) * factor
    return energy
