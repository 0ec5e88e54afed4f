"""Site status (online / degraded / offline / unknown) from heartbeats, and per-site summaries."""

from datetime import datetime, timedelta

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.central.models import DataPoint, Meter, Site
from db.clock import utcnow

ONLINE, DEGRADED, OFFLINE, UNKNOWN = "online", "degraded", "offline", "unknown"
OUTAGE_STARTED, OUTAGE_ENDED = "last_central_outage_started_at", "last_central_outage_ended_at"
OUTAGE_IN_MAINTENANCE = "central_outage_in_maintenance"
EDGE_ALERTS = "edge_alerts"  # ended alerts the edge decided itself (edge_agent/edge_alerts.py)
SIMULATED_FROM, SIMULATED_UNTIL = "simulated_from", "simulated_until"  # simulated (demo) readings' span


def status_from_health(health: dict, degraded_queue_depth: int) -> str:
    """Degraded when a meter is unreachable or the queue is deep; online otherwise."""
    meters = health.get("meters") or []
    if any(not m.get("reachable", True) for m in meters):
        return DEGRADED
    if (health.get("queue_depth") or 0) > degraded_queue_depth:
        return DEGRADED
    return ONLINE


def note_outage_in_maintenance(site: Site, health: dict) -> dict:
    """The health, marking the edge's last central outage when first reported while the site is in maintenance."""
    started = health.get(OUTAGE_STARTED)
    before = site.health or {}
    if started and started == before.get(OUTAGE_STARTED):
        quiet = bool(before.get(OUTAGE_IN_MAINTENANCE))
    else:
        quiet = bool(started) and site.maintenance
    return {**health, OUTAGE_IN_MAINTENANCE: quiet}


def keep_simulated_span(before: dict, health: dict) -> dict:
    """The health with the widest span of simulated readings the edge reported, kept once it stops saying so."""
    spans = [(h.get(SIMULATED_FROM), h.get(SIMULATED_UNTIL)) for h in (before, health)]
    spans = [(datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in spans if a and b]
    if not spans:
        return health
    start, end = min(a for a, _ in spans), max(b for _, b in spans)
    return {**health, SIMULATED_FROM: start.isoformat(), SIMULATED_UNTIL: end.isoformat()}


async def record_heartbeat(
    session: AsyncSession, site_id: int, health: dict, degraded_queue_depth: int
) -> tuple[Site, str]:
    """Store a heartbeat and per-meter reachability; return the site and its previous status."""
    site = await session.get(Site, site_id, with_for_update=session.bind.dialect.name == "postgresql")
    previous = site.status
    site.health = keep_simulated_span(site.health or {}, note_outage_in_maintenance(site, health))
    site.last_heartbeat_at = utcnow()
    site.status = status_from_health(health, degraded_queue_depth)
    for meter in health.get("meters") or []:
        seen = meter.get("last_seen_at")
        await session.execute(
            update(Meter)
            .where(Meter.site_id == site.id, Meter.external_id == meter["external_id"])
            .values(
                reachable=meter["reachable"],
                last_error=(meter.get("last_error") or None) and meter["last_error"][:500],
                last_seen_at=datetime.fromisoformat(seen) if isinstance(seen, str) else seen,
            )
        )
    await session.flush()
    return site, previous


async def mark_offline(session: AsyncSession, silent_for: timedelta) -> list[Site]:
    """Set sites not heard from (db/central/contact.py) for `silent_for` offline; return the ones that changed."""
    cutoff = utcnow() - silent_for
    heard = func.coalesce(Site.last_contact_at, Site.last_heartbeat_at)
    query = select(Site).where(Site.is_active.is_(True), Site.status.in_((ONLINE, DEGRADED)), heard < cutoff)
    if session.bind.dialect.name == "postgresql":
        # Several workers run the monitor: each stale site is flipped (and announced) by one of them.
        query = query.with_for_update(skip_locked=True)
    stale = list(await session.scalars(query))
    for site in stale:
        site.status = OFFLINE
    await session.flush()
    return stale


async def count_online(session: AsyncSession) -> int:
    """Active sites that are online or degraded."""
    query = select(func.count()).where(Site.is_active.is_(True), Site.status.in_((ONLINE, DEGRADED)))
    return int(await session.scalar(query.select_from(Site)) or 0)


async def meter_counts(session: AsyncSession, site_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(meters, reachable meters) per site id."""
    if not site_ids:
        return {}
    reachable = func.sum(case((Meter.reachable.is_(True), 1), else_=0))
    rows = await session.execute(
        select(Meter.site_id, func.count(), reachable)
        .where(Meter.site_id.in_(site_ids))
        .group_by(Meter.site_id)
    )
    counts = {sid: (0, 0) for sid in site_ids}
    counts.update({sid: (int(total), int(up or 0)) for sid, total, up in rows})
    return counts


async def today_energy_kwh(session: AsyncSession, site: Site) -> float | None:
    """kWh used today (site time): the energy query's figure (db/central/energy_totals.py)."""
    from db.central.energy_totals import today_energy_by_site

    has_energy_point = await session.scalar(
        select(DataPoint.id)
        .join(Meter, Meter.id == DataPoint.meter_id)
        .where(Meter.site_id == site.id, DataPoint.cumulative.is_(True))
        .limit(1)
    )
    if has_energy_point is None:
        return None  # no energy register at this site: unknown, not zero
    return (await today_energy_by_site(session, [site.id], utcnow())).get(site.id)
