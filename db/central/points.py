"""Point-id lookup for ingest: (site, meter external id, point name) -> ids, registering unknown ones.

Lookups are cached per process and site; `forget_site` drops a site's entries when its meters change here.
Another worker that deletes a meter is seen after at most CACHE_TTL_SECONDS (a site's ids expire together).

A site key cannot create unbounded state: registration stops at the inventory's limits (meters a site, points
a meter, points a site); the readings of a point past them are refused, each with the reason.
"""

import time
from dataclasses import dataclass, field

from sqlalchemy import func, insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from db.central.models import DataPoint, Meter, Site
from db.energy.units import infer_cumulative
from db.inventory import MAX_METERS_PER_SITE, MAX_POINTS_PER_METER, MAX_POINTS_PER_SITE

CACHE_TTL_SECONDS = 300.0


@dataclass
class _SiteIds:
    """One site's known (meter external id, point name) -> (meter id, point id), since `loaded`."""

    loaded: float
    ids: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)


# Keyed by database too: one process may serve (or test) several databases whose ids overlap.
_cache: dict[tuple[str, int], _SiteIds] = {}


def forget_site(site_id: int | None = None) -> None:
    """Drop cached ids of one site (after meters or points were edited or deleted), or of all sites."""
    if site_id is None:
        _cache.clear()
        return
    for key in [k for k in _cache if k[1] == site_id]:
        _cache.pop(key, None)


def _insert_ignoring_conflicts(session: AsyncSession, model, rows: list[dict]):
    if session.bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(model).values(rows).on_conflict_do_nothing()
    return insert(model).values(rows).prefix_with("OR IGNORE")


async def _meter_ids(
    session: AsyncSession, site_id: int, external_ids: set[str]
) -> tuple[dict[str, int], set[str]]:
    def query():
        return select(Meter.external_id, Meter.id).where(
            Meter.site_id == site_id, Meter.external_id.in_(external_ids)
        )

    found = dict((await session.execute(query())).all())
    known = set(found)
    missing = external_ids - known
    if missing:
        rows = [
            {"site_id": site_id, "external_id": e, "name": e, "discovered": True} for e in sorted(missing)
        ]
        await session.execute(_insert_ignoring_conflicts(session, Meter, rows))
        found = dict((await session.execute(query())).all())
    return found, known


async def _point_ids(
    session: AsyncSession, wanted: dict[tuple[int, str], str | None]
) -> tuple[dict[tuple[int, str], int], set[tuple[int, str]]]:
    def query():
        return select(DataPoint.meter_id, DataPoint.name, DataPoint.id).where(
            tuple_(DataPoint.meter_id, DataPoint.name).in_(list(wanted))
        )

    found = {(m, n): i for m, n, i in (await session.execute(query())).all()}
    known = set(found)
    missing = wanted.keys() - known
    if missing:
        rows = [
            {
                "meter_id": m,
                "name": n,
                "unit": wanted[(m, n)],
                "discovered": True,
                "cumulative": infer_cumulative(wanted[(m, n)], n),
            }
            for m, n in sorted(missing)
        ]
        await session.execute(_insert_ignoring_conflicts(session, DataPoint, rows))
        found = {(m, n): i for m, n, i in (await session.execute(query())).all()}
    return found, known


def known_points(session: AsyncSession, site_id: int) -> dict[tuple[str, str], tuple[int, int]]:
    """The ids of the site's points this process has seen (no query; may lack new ones: resolve_points)."""
    now, cache_key = time.monotonic(), (str(session.bind.url), site_id)
    cached = _cache.get(cache_key)
    if cached is None or now - cached.loaded >= CACHE_TTL_SECONDS:
        cached = _cache[cache_key] = _SiteIds(loaded=now)
    return cached.ids


async def resolve_points(
    session: AsyncSession,
    site_id: int,
    units: dict[tuple[str, str], str | None],
    refused: dict[tuple[str, str], str] | None = None,
) -> dict[tuple[str, str], tuple[int, int]]:
    """Map (meter external id, point name) to (meter id, point id), creating discovered meters/points.

    The answer may hold more keys than asked for (a warm site's whole mapping, not a copy of part of it).
    A point that would pass a limit is left out of it; its reason goes into `refused` when given.
    """
    known = known_points(session, site_id)
    if units.keys() <= known.keys():  # the usual upload: every point seen before
        return known
    resolved = {key: known[key] for key in units if key in known}
    misses = {key: unit for key, unit in units.items() if key not in known}
    misses = await _within_limits(session, site_id, misses, refused if refused is not None else {})
    if not misses:
        return resolved
    meters, known_meters = await _meter_ids(session, site_id, {meter for meter, _ in misses})
    wanted = {(meters[meter], point): unit for (meter, point), unit in misses.items()}
    points, existing_points = await _point_ids(session, wanted)
    for meter, point in misses:
        ids = (meters[meter], points[(meters[meter], point)])
        resolved[(meter, point)] = ids
        # Only rows that existed before this transaction are cached: a rolled-back registration must not be.
        if meter in known_meters and (ids[0], point) in existing_points:
            known[meter, point] = ids
    return resolved


async def _within_limits(
    session: AsyncSession, site_id: int, misses: dict[tuple[str, str], str | None], refused: dict
) -> dict[tuple[str, str], str | None]:
    """The misses that stay within the site's limits (in name order); the others' reasons into refused."""
    if session.bind.dialect.name == "postgresql":  # concurrent uploads of one site count one after the other
        await session.execute(select(Site.id).where(Site.id == site_id).with_for_update())
    rows = (
        await session.execute(
            select(Meter.external_id, func.count(DataPoint.id))
            .outerjoin(DataPoint, DataPoint.meter_id == Meter.id)
            .where(Meter.site_id == site_id)
            .group_by(Meter.external_id)
        )
    ).all()
    per_meter = {meter: count for meter, count in rows}
    site_points = sum(per_meter.values())
    existing = {
        (m, n)
        for m, n in (
            await session.execute(
                select(Meter.external_id, DataPoint.name)
                .join(DataPoint, DataPoint.meter_id == Meter.id)
                .where(Meter.site_id == site_id, Meter.external_id.in_({m for m, _ in misses}))
            )
        ).all()
    }
    allowed = {}
    for key in sorted(misses):
        meter, _ = key
        if key in existing:  # registered by another worker since this one's cache was filled
            allowed[key] = misses[key]
            continue
        if meter not in per_meter and len(per_meter) >= MAX_METERS_PER_SITE:
            refused[key] = f"meter limit reached: a site has at most {MAX_METERS_PER_SITE} meters"
        elif per_meter.get(meter, 0) >= MAX_POINTS_PER_METER:
            refused[key] = f"point limit reached: a meter has at most {MAX_POINTS_PER_METER} points"
        elif site_points >= MAX_POINTS_PER_SITE:
            refused[key] = f"point limit reached: a site has at most {MAX_POINTS_PER_SITE} points"
        else:
            per_meter[meter] = per_meter.get(meter, 0) + 1
            site_points += 1
            allowed[key] = misses[key]
    return allowed
