"""The fleet overview: sites filtered, counted, sorted and paged in SQL, with today's power per site."""

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.central.energy_query import energy_pages, energy_points
from db.central.energy_totals import today_energy_by_site
from db.central.models import Alert, DataPoint, Meter, Site
from db.central.site_status import DEGRADED, OFFLINE, ONLINE, UNKNOWN, meter_counts
from db.energy import local_day, local_day_bounds
from db.energy.units import POWER_KW_FACTORS, kw_factor
from db.engine import asyncpg_connection

MAINTENANCE = "maintenance"
FLEET_STATES = (ONLINE, DEGRADED, OFFLINE, MAINTENANCE, UNKNOWN)
SORTS = ("name", "status", "last_heard", "queue_depth")
MAX_PAGE = 200
HOUR = timedelta(hours=1)

# A site in maintenance shows (and filters) as "maintenance" whatever its heartbeat says.
_fleet_state = case((Site.maintenance.is_(True), MAINTENANCE), else_=Site.status)
_worst_first = case(
    (Site.status == OFFLINE, 0), (Site.status == DEGRADED, 1), (Site.status == UNKNOWN, 2), else_=3
)
_heard = func.coalesce(Site.last_contact_at, Site.last_heartbeat_at)


@dataclass
class FleetPage:
    """One page of sites and the figures of the whole (searched) fleet."""

    total: int
    counts: dict[str, int]
    sites: list[Site]
    meters: dict[int, tuple[int, int]]
    today_kwh: dict[int, float | None]
    power: dict[int, list[float | None]]
    fleet_today_kwh: float
    open_alerts: int
    open_alerts_by_site: dict[int, int] = field(default_factory=dict)


def _matching(search: str | None, site_ids: Collection[int] | None = None):
    """Conditions for a name search (case-insensitive substring) among the given sites (None: all)."""
    needle = (search or "").strip()
    conditions = [Site.name.ilike(f"%{needle}%")] if needle else []
    if site_ids is not None:
        conditions.append(Site.id.in_(list(site_ids)))
    return conditions


def _order(sort: str):
    """ORDER BY of one of SORTS, ties by name."""
    if sort == "status":
        return [_worst_first, Site.maintenance, func.lower(Site.name)]
    if sort == "last_heard":
        return [_heard.is_(None).desc(), _heard.asc(), func.lower(Site.name)]  # longest silent first
    if sort == "queue_depth":
        depth = func.coalesce(Site.health["queue_depth"].as_integer(), 0)
        return [depth.desc(), func.lower(Site.name)]
    return [func.lower(Site.name), Site.id]


async def fleet_counts(
    session: AsyncSession, search: str | None, site_ids: Collection[int] | None = None
) -> dict[str, int]:
    """Sites per fleet state (online, degraded, offline, maintenance, unknown) among those matching search."""
    rows = await session.execute(
        select(_fleet_state, func.count()).where(*_matching(search, site_ids)).group_by(_fleet_state)
    )
    counts = dict.fromkeys(FLEET_STATES, 0)
    for state, n in rows:
        counts[state] = counts.get(state, 0) + int(n)
    return counts


# Each power point's usable readings per hour since its site's local midnight (m): the stored quarters' sums
# over [a, tail_start), a = max(m, folded_from), where the summary holds that much, and the raw readings
# elsewhere (before a, and from tail_start on). The mean of an hour is the `energy` query's hour bucket mean
# (usable readings only).
_POWER_HOURS = """
WITH p AS (
  SELECT s.site_id, dp.id AS pid, dp.unit, s.m, st.tail_start AS b,
    CASE WHEN st.tail_start > greatest(s.m, st.folded_from) THEN greatest(s.m, st.folded_from) END AS a
  FROM unnest($1::bigint[], $2::timestamptz[]) AS s(site_id, m)
  JOIN meters m ON m.site_id = s.site_id
  JOIN data_points dp ON dp.meter_id = m.id AND NOT dp.cumulative AND lower(dp.unit) = ANY($3::text[])
  LEFT JOIN energy_summary_state st ON st.point_id = dp.id
)
SELECT p.site_id, p.unit, h.hour, sum(h.vsum) / sum(h.usable) AS mean
FROM p
CROSS JOIN LATERAL (
  SELECT floor(extract(epoch FROM q - p.m) / 3600)::int AS hour, vsum, usable
  FROM energy_quarters WHERE point_id = p.pid AND q >= p.a AND q < p.b AND usable > 0
  UNION ALL
  SELECT floor(extract(epoch FROM ts - p.m) / 3600)::int, value, 1
  FROM readings WHERE point_id = p.pid AND ts >= p.m AND ts < coalesce(p.a, 'infinity') AND quality < 2
  UNION ALL
  SELECT floor(extract(epoch FROM ts - p.m) / 3600)::int, value, 1
  FROM readings WHERE point_id = p.pid AND p.a IS NOT NULL AND ts >= p.b AND quality < 2
) h
GROUP BY p.site_id, p.pid, p.unit, h.hour
"""


async def power_today(
    session: AsyncSession, sites: list[Site], now: datetime
) -> dict[int, list[float | None]]:
    """Per site, the mean power (kW, summed over its power points) of each hour since its local midnight: the
    `energy` query's hour means (usable readings only), from the energy summary and the readings after it."""
    if not sites:
        return {}
    starts = {
        s.id: local_day_bounds(local_day(now, s.timezone or "UTC"), s.timezone or "UTC")[0] for s in sites
    }
    hours: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for site_id, hour, mean, unit in await _hour_means(session, starts, now):
        if hour >= 0 and mean is not None:
            hours[site_id][hour] += mean * (kw_factor(unit) or 0.0)
    out = {}
    for site in sites:
        span = int((now - starts[site.id]).total_seconds() // 3600) + 1
        values = hours.get(site.id, {})
        out[site.id] = [round(values[i], 3) if i in values else None for i in range(span)] if values else []
    return out


async def _hour_means(session: AsyncSession, starts: dict[int, datetime], now: datetime) -> list[tuple]:
    """(site, hour since its local midnight, mean, unit) of every power point of the sites."""
    if session.bind.dialect.name == "postgresql":
        conn = await asyncpg_connection(session)
        # its estimate grows with the points (~56 a power point) past jit_above_cost on large pages, and a
        # compiled plan costs ~200 ms (db/central/energy_totals.py today_energy_by_site)
        await conn.execute("SELECT set_config('jit', 'off', true)")
        rows = await conn.fetch(_POWER_HOURS, list(starts), list(starts.values()), list(POWER_KW_FACTORS))
        return [(site_id, hour, mean, unit) for site_id, unit, hour, mean in rows]
    # SQLite keeps no summary: the energy query's hour buckets, read raw
    points = (
        await session.execute(
            select(Meter.site_id, DataPoint.id, DataPoint.unit)
            .join(DataPoint, DataPoint.meter_id == Meter.id)
            .where(
                Meter.site_id.in_(list(starts)),
                DataPoint.cumulative.is_(False),
                func.lower(DataPoint.unit).in_(list(POWER_KW_FACTORS)),
            )
        )
    ).all()
    facts = await energy_points(session, [pid for _, pid, _ in points])
    by_site: dict[int, list[tuple[int, str | None]]] = defaultdict(list)
    for site_id, pid, unit in points:
        by_site[site_id].append((pid, unit))
    out = []
    for site_id, mine in by_site.items():  # one call per site: its midnight starts the range
        pages = await energy_pages(
            session, [facts[pid] for pid, _ in mine], starts[site_id], now + HOUR, "hour"
        )
        for pid, unit in mine:
            for bucket in pages[pid]:
                index = int((bucket.start - starts[site_id]).total_seconds() // 3600)
                out.append((site_id, index, bucket.mean, unit))
    return out


async def open_alert_totals(
    session: AsyncSession, site_ids: list[int], visible: Collection[int] | None = None
) -> tuple[int, dict[int, int]]:
    """Open alerts in the whole fleet (of the visible sites; None: every site and fleet-wide), and per site."""
    query = select(func.count()).select_from(Alert).where(Alert.resolved_at.is_(None))
    if visible is not None:
        query = query.where(Alert.site_id.in_(list(visible)))
    total = await session.scalar(query)
    per_site = {}
    if site_ids:
        rows = await session.execute(
            select(Alert.site_id, func.count())
            .where(Alert.resolved_at.is_(None), Alert.site_id.in_(site_ids))
            .group_by(Alert.site_id)
        )
        per_site = {sid: int(n) for sid, n in rows}
    return int(total or 0), per_site


async def fleet_page(
    session: AsyncSession,
    now: datetime,
    *,
    state: str | None = None,
    search: str | None = None,
    sort: str = "name",
    limit: int = 24,
    offset: int = 0,
    site_ids: Collection[int] | None = None,
) -> FleetPage:
    """Sites matching search (and state) among site_ids (None: all), sorted and paged: 7 queries."""
    conditions = _matching(search, site_ids)
    if state:
        conditions.append(_fleet_state == state)
    counts = await fleet_counts(session, search, site_ids)
    total = counts.get(state, 0) if state else sum(counts.values())
    query = select(Site).where(*conditions).order_by(*_order(sort)).limit(limit).offset(offset)
    sites = list(await session.scalars(query))
    ids = [s.id for s in sites]
    meters = await meter_counts(session, ids)
    energy_sites = select(Site.id).where(*_matching(search, site_ids))
    all_ids = list(await session.scalars(energy_sites))
    energy = await today_energy_by_site(session, all_ids, now) if all_ids else {}
    power = await power_today(session, sites, now)
    alerts, by_site = await open_alert_totals(session, ids, site_ids)
    return FleetPage(
        total=total,
        counts=counts,
        sites=sites,
        meters=meters,
        today_kwh={sid: energy.get(sid) for sid in ids},
        power=power,
        fleet_today_kwh=round(sum(v for v in energy.values() if v), 3),
        open_alerts=alerts,
        open_alerts_by_site=by_site,
    )
