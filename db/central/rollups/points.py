"""The facts the fold needs about each point, cached; the advisory locks that keep two folds of a point apart.

PostgreSQL only: the embedded SQLite stores no summary (its energy queries read raw readings).
"""

import time
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.central.energy_summary import rebuild_summary
from db.central.models import DataPoint, Meter, Reading, Site
from db.engine import asyncpg_connection

INFO_TTL_SECONDS = 300.0
LOCK_CLASS = 0x524F4C4C  # first key of the advisory locks ("ROLL")
LOCK_SLOTS = 64  # points share this many advisory locks (bounded lock table use)


@dataclass(frozen=True, slots=True)
class PointInfo:
    """What the fold of one point needs to know about it."""

    point_id: int
    site_id: int | None = None
    timezone: str = "UTC"
    cumulative: bool = False
    rollover: float | None = None


_cache: dict[tuple[str, int], tuple[PointInfo, float]] = {}


def forget_point_infos() -> None:
    """Drop cached point facts (after a site's zone or a point's kind changed; see rebuild_points)."""
    _cache.clear()


async def point_infos(session: AsyncSession, point_ids: list[int]) -> dict[int, PointInfo]:
    """Site and its time zone, kind and rollover of each point, cached for INFO_TTL_SECONDS."""
    now, db = time.monotonic(), str(session.bind.url)
    infos = {p: hit[0] for p in point_ids if (hit := _cache.get((db, p))) and now - hit[1] < INFO_TTL_SECONDS}
    missing = [p for p in point_ids if p not in infos]
    if missing:
        fresh = await _load_point_infos(session, missing)
        for pid, info in fresh.items():
            if info.site_id is not None:  # unknown points are not cached: they may be registered later
                _cache[(db, pid)] = (info, now)
        infos.update(fresh)
    return infos


async def _load_point_infos(session: AsyncSession, point_ids: list[int]) -> dict[int, PointInfo]:
    rows = await session.execute(
        select(
            DataPoint.id,
            DataPoint.name,
            DataPoint.cumulative,
            Meter.config,
            Site.id,
            Site.timezone,
        )
        .join(Meter, Meter.id == DataPoint.meter_id)
        .join(Site, Site.id == Meter.site_id)
        .where(DataPoint.id.in_(point_ids))
    )
    infos = {pid: PointInfo(pid) for pid in point_ids}
    for pid, name, cumulative, config, site_id, tz in rows:
        rollover = ((config or {}).get("rollover") or {}).get(name)
        rollover = float(rollover) if rollover is not None else None
        infos[pid] = PointInfo(pid, site_id, tz or "UTC", bool(cumulative), rollover)
    return infos


_LOCK_SLOTS = "SELECT count(pg_advisory_xact_lock($1, s)) FROM unnest($2::int[]) AS s"


async def lock_point_slots(session: AsyncSession, point_ids) -> None:
    """Hold the advisory locks of the points' slots until commit, taken in ascending order (no deadlock;
    PostgreSQL)."""
    slots = sorted({pid % LOCK_SLOTS for pid in point_ids})
    await (await asyncpg_connection(session)).fetchval(_LOCK_SLOTS, LOCK_CLASS, slots)


async def rebuild_points(session: AsyncSession, point_ids: list[int] | None = None) -> None:
    """Rebuild the energy summary of some points (all when None) from the raw readings still kept.

    Needed after a bulk import without the ingest path, or after a site's time zone or a point's
    cumulative flag changed (rollups of raw data already dropped by retention stay as they were).
    """
    forget_point_infos()
    query = select(Reading.point_id, func.min(Reading.ts), func.max(Reading.ts)).group_by(Reading.point_id)
    if point_ids is not None:
        query = query.where(Reading.point_id.in_(point_ids))
    spans = {pid: (lo, hi) for pid, lo, hi in await session.execute(query)}
    if session.bind.dialect.name == "postgresql":  # the worker's incremental folds must not interleave
        await lock_point_slots(session, spans)
    if session.bind.dialect.name == "postgresql" and spans:
        await rebuild_summary(session, sorted(spans), await point_infos(session, sorted(spans)))
