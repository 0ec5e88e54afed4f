"""Point-id lookup for ingest: (site, meter external id, point name) -> ids, registering unknown ones.

Lookups are cached per process and site; `forget_site` drops a site's entries when its meters change here.
Another worker that deletes a meter is seen after at most CACHE_TTL_SECONDS (a site's ids expire together).
"""

import time
from dataclasses import dataclass, field

from sqlalchemy import insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from db.central_models import DataPoint, Meter
from db.units import infer_cumulative

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
    session: AsyncSession, site_id: int, units: dict[tuple[str, str], str | None]
) -> dict[tuple[str, str], tuple[int, int]]:
    """Map (meter external id, point name) to (meter id, point id), creating discovered meters/points.

    The answer may hold more keys than asked for (a warm site's whole mapping, not a copy of part of it).
    """
    known = known_points(session, site_id)
    if units.keys() <= known.keys():  # the usual upload: every point seen before
        return known
    resolved = {key: known[key] for key in units if key in known}
    misses = {key: unit for key, unit in units.items() if key not in known}
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
