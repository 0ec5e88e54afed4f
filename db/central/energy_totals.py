"""Energy per site and for the fleet per local day or month: the sum of the sites' kWh registers.

Each site's buckets are its own local days (23, 24 or 25 hours) or months; the fleet's bucket of a date is
the sum of every site's bucket labelled with that date, so fleet totals always equal the sum of the sites.
"""

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.central.energy_query import energy_pages, energy_points
from db.central.models import DataPoint, Meter, Site
from db.energy import QUALITY_GOOD, local_day, local_day_bounds
from db.energy.units import kwh_factor

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
