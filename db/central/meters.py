"""Data access for meters and their data points (central database), with each point's latest reading."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.central.models import DataPoint, Meter, Reading
from db.central.points import forget_site
from db.clock import utcnow
from db.errors import NotFound
from db.types import UTCDateTime

METER_FIELDS = ("name", "bacnet_device_id", "bacnet_address", "enabled", "config")
POINT_FIELDS = ("object_type", "instance", "property", "unit", "cumulative", "cov")


@dataclass
class PointView:
    """A data point with its latest reading (None when nothing was stored yet)."""

    point: DataPoint
    last_value: float | None = None
    last_ts: datetime | None = None


async def list_meters(
    session: AsyncSession, site_id: int | None = None, site_ids: Collection[int] | None = None
) -> list[Meter]:
    """Meters of one site (or all; or of the sites in site_ids), by site and external id."""
    query = select(Meter).order_by(Meter.site_id, Meter.external_id)
    if site_id is not None:
        query = query.where(Meter.site_id == site_id)
    if site_ids is not None:
        query = query.where(Meter.site_id.in_(list(site_ids)))
    return list(await session.scalars(query))


async def get_meter(session: AsyncSession, meter_id: int) -> Meter:
    """One meter; NotFound when it does not exist."""
    meter = await session.get(Meter, meter_id)
    if meter is None:
        raise NotFound(f"no meter with id {meter_id}")
    return meter


# readings is partitioned by month: "the newest reading" with no lower bound descends into every partition's
# index, one Merge Append per point. The last LATEST_NEAR is searched first, the rest only for a point with
# nothing in it (COALESCE evaluates its second argument only then): the same answer, a few partitions a point.
LATEST_NEAR = timedelta(days=31)
_LATEST_PG = text(
    "SELECT p.id, r.ts, r.value FROM unnest(CAST(:ids AS bigint[])) AS p(id) CROSS JOIN LATERAL "
    "(SELECT ts, value FROM readings WHERE point_id = p.id AND ts = COALESCE("
    "(SELECT ts FROM readings WHERE point_id = p.id AND ts >= :near ORDER BY ts DESC LIMIT 1), "
    "(SELECT ts FROM readings WHERE point_id = p.id AND ts < :near ORDER BY ts DESC LIMIT 1))) r"
).bindparams(bindparam("near", type_=UTCDateTime))
_LATEST_PG = _LATEST_PG.columns(id=Reading.point_id.type, ts=UTCDateTime(), value=Reading.value.type)


async def latest_values(session: AsyncSession, point_ids: list[int]) -> dict[int, tuple[datetime, float]]:
    """The newest (ts, value) of each point that has readings."""
    if not point_ids:
        return {}
    if session.bind.dialect.name == "postgresql":
        near = utcnow() - LATEST_NEAR
        rows = await session.execute(_LATEST_PG, {"ids": point_ids, "near": near})
        return {pid: (ts, value) for pid, ts, value in rows}
    latest = {}
    query = (
        select(Reading.ts, Reading.value)
        .where(Reading.point_id == bindparam("pid"))
        .order_by(Reading.ts.desc())
        .limit(1)
    )
    for pid in point_ids:
        row = (await session.execute(query, {"pid": pid})).first()
        if row is not None:
            latest[pid] = (row[0], row[1])
    return latest


async def points_of(session: AsyncSession, meter_ids: list[int], with_latest: bool = True) -> dict[int, list]:
    """Data points per meter id (as PointView, with latest readings when asked)."""
    if not meter_ids:
        return {}
    points = list(
        await session.scalars(
            select(DataPoint).where(DataPoint.meter_id.in_(meter_ids)).order_by(DataPoint.name)
        )
    )
    latest = await latest_values(session, [p.id for p in points]) if with_latest else {}
    grouped: dict[int, list[PointView]] = {mid: [] for mid in meter_ids}
    for point in points:
        ts, value = latest.get(point.id, (None, None))
        grouped[point.meter_id].append(PointView(point, value, ts))
    return grouped


async def upsert_meter(
    session: AsyncSession, site_id: int, external_id: str, fields: dict, points: list[dict]
) -> Meter:
    """Make a meter (by site and external id) exactly `fields` with exactly `points` (an inventory version)."""
    external_id = external_id.strip()
    if not external_id:
        raise ValueError("a meter needs an external id")
    meter = await session.scalar(
        select(Meter).where(Meter.site_id == site_id, Meter.external_id == external_id)
    )
    if meter is None:
        meter = Meter(site_id=site_id, external_id=external_id, name=fields.get("name") or external_id)
        session.add(meter)
    for name in METER_FIELDS:
        if name in fields:
            value = fields[name]
            # config also holds keys set elsewhere (a point's register rollover): merge, never drop them
            setattr(meter, name, {**(meter.config or {}), **value} if name == "config" else value)
    meter.discovered = False
    await session.flush()
    await _replace_points(session, meter, points)
    forget_site(site_id)
    return meter


async def _replace_points(session: AsyncSession, meter: Meter, points: list[dict]) -> None:
    existing = {
        p.name: p for p in await session.scalars(select(DataPoint).where(DataPoint.meter_id == meter.id))
    }
    keep = set()
    for spec in points:
        name = spec["name"].strip()
        keep.add(name)
        point = existing.get(name) or DataPoint(meter_id=meter.id, name=name)
        for field_name in POINT_FIELDS:
            if field_name in spec:
                setattr(point, field_name, spec[field_name])
        point.discovered = False
        session.add(point)
    # Points an upload registered on its own (discovered) keep their readings reachable: only points someone
    # defined and has now removed go. Readings of removed points stay (no foreign key) but lose their name.
    gone = [p.id for name, p in existing.items() if name not in keep and not p.discovered]
    if gone:
        await session.execute(delete(DataPoint).where(DataPoint.id.in_(gone)))
    await session.flush()


async def delete_meter(session: AsyncSession, meter_id: int) -> int:
    """Delete a meter and its points; return its site id."""
    meter = await get_meter(session, meter_id)
    site_id = meter.site_id
    await session.execute(delete(DataPoint).where(DataPoint.meter_id == meter_id))
    await session.delete(meter)
    await session.flush()
    forget_site(site_id)
    return site_id


async def find_point(session: AsyncSession, meter_id: int, name: str) -> DataPoint:
    """A meter's point by name; NotFound otherwise."""
    point = await session.scalar(
        select(DataPoint).where(DataPoint.meter_id == meter_id, DataPoint.name == name)
    )
    if point is None:
        raise NotFound(f"meter {meter_id} has no data point {name!r}")
    return point
