"""Meters for dashboards and MCP: list with points and latest values, look up, delete (edits: inventory).

MeterInfo and PointInfo are the one definition of a meter as GraphQL (Meter, DataPoint) and MCP (query_meters)
show it.
"""

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import NotFoundError
from api.services import inventory
from api.services.access import Scope, meter_in_scope
from db.central import meters as db_meters
from db.central.inventory_store import current
from db.central.meters import PointView
from db.central.models import Meter, Site
from db.clock import utcnow
from db.staleness import age_seconds, is_stale, stale_after

# In MCP's JSON schema only: the GraphQL schema has no text for this field, and keeps it that way.
COUNTING = {"description": "true for counting registers (energy), false for instantaneous values"}


class PointInfo(BaseModel):
    """One property of a meter that the edge reads, with its newest stored value."""

    id: int
    name: str
    object_type: str
    instance: int
    property: str
    unit: str | None
    cumulative: bool = Field(json_schema_extra=COUNTING)
    cov: bool
    last_value: float | None
    last_ts: datetime | None
    age_seconds: float | None = Field(description="seconds since lastTs (null: no value yet)")
    stale: bool = Field(description="no value for 3 × the meter's interval (db/staleness.py)")

    @classmethod
    def of(cls, view: PointView, interval: float | None = None) -> "PointInfo":
        """From a data_points row and its latest reading; `interval` is its meter's polling interval."""
        p = view.point
        now = utcnow()
        return cls(
            id=p.id,
            name=p.name,
            object_type=p.object_type,
            instance=p.instance,
            property=p.property,
            unit=p.unit,
            cumulative=p.cumulative,
            cov=p.cov,
            last_value=view.last_value,
            last_ts=view.last_ts,
            age_seconds=age_seconds(view.last_ts, now),
            stale=is_stale(view.last_ts, interval, now),
        )


def meter_interval(meter: Meter, site_interval: float | None) -> float | None:
    """A meter's polling interval: its own, else its site's."""
    return (meter.config or {}).get("interval_seconds") or site_interval


def meter_state(meter: Meter, site_interval: float | None = None) -> str:
    """What a person should read from a meter's reachability and how long ago it was last heard from."""
    if not meter.enabled:
        return "disabled"
    if meter.reachable:
        # No last_seen_at (an edge that reports none): nothing says how old "reachable" is.
        seen = meter.last_seen_at
        stale = seen is not None and is_stale(seen, meter_interval(meter, site_interval), utcnow())
        return "stale" if stale else "reachable"
    return "never answered" if meter.last_seen_at is None else "unreachable"


class MeterInfo(BaseModel):
    """A BACnet meter at a site, its reachability and its points."""

    id: int
    site_id: int
    external_id: str
    name: str
    bacnet_device_id: int | None
    bacnet_address: str | None
    enabled: bool
    discovered: bool
    reachable: bool | None
    last_error: str | None
    last_seen_at: datetime | None
    state: str = Field(
        description="reachable, stale (reachable at its last report, not heard from for 3 × its interval), "
        "unreachable, never answered or disabled"
    )
    interval_seconds: float | None = Field(description="its own collection interval, if set")
    age_seconds: float | None = Field(description="seconds since lastSeenAt (null: never seen)")
    stale_after_seconds: float = Field(description="age past which the meter counts as stale")
    data_points: list[PointInfo]

    @classmethod
    def of(cls, meter: Meter, points: list[PointView], site_interval: float | None = None) -> "MeterInfo":
        """From a meters row and its points; `site_interval` is its site's collection interval."""
        interval = meter_interval(meter, site_interval)
        return cls(
            id=meter.id,
            site_id=meter.site_id,
            external_id=meter.external_id,
            name=meter.name,
            bacnet_device_id=meter.bacnet_device_id,
            bacnet_address=meter.bacnet_address,
            enabled=meter.enabled,
            discovered=meter.discovered,
            reachable=meter.reachable,
            last_error=meter.last_error,
            last_seen_at=meter.last_seen_at,
            state=meter_state(meter, site_interval),
            interval_seconds=(meter.config or {}).get("interval_seconds"),
            age_seconds=age_seconds(meter.last_seen_at, utcnow()),
            stale_after_seconds=stale_after(interval),
            data_points=[PointInfo.of(v, interval) for v in points],
        )


async def meters_with_points(
    session: AsyncSession, scope: Scope, site_id: int | None = None
) -> list[tuple[Meter, list[PointView]]]:
    """Meters of one site (or all of the caller's) with their points and each point's newest reading."""
    if site_id is not None:
        scope.check_read(site_id)
    meters = await db_meters.list_meters(session, site_id, scope.site_ids())
    points = await db_meters.points_of(session, [m.id for m in meters])
    return [(m, points.get(m.id, [])) for m in meters]


async def site_intervals(session: AsyncSession, site_ids: set[int]) -> dict[int, float]:
    """Each site's collection interval (what a meter without its own is polled at)."""
    if not site_ids:
        return {}
    rows = await session.execute(
        select(Site.id, Site.collection_interval_seconds).where(Site.id.in_(site_ids))
    )
    return dict(rows.all())


async def meter_with_points(
    session: AsyncSession, meter_id: int, scope: Scope
) -> tuple[Meter, list[PointView]]:
    """One meter of the caller's sites with its points; NotFoundError otherwise."""
    meter = await meter_in_scope(session, scope, meter_id)
    return meter, (await db_meters.points_of(session, [meter.id]))[meter.id]


async def meter_by_external_id(
    session: AsyncSession, site_id: int, external_id: str
) -> tuple[Meter, list[PointView]]:
    """A site's meter by external id, with its points; NotFoundError otherwise."""
    meter = await session.scalar(
        select(Meter).where(Meter.site_id == site_id, Meter.external_id == external_id.strip())
    )
    if meter is None:
        raise NotFoundError(f"site {site_id} has no meter {external_id!r}")
    return meter, (await db_meters.points_of(session, [meter.id]))[meter.id]


async def delete_meter(
    session: AsyncSession, meter_id: int, origin: str, author: str | None, scope: Scope
) -> bool:
    """Delete a meter (its site's managers): from the site's inventory when defined there, else the placeholder."""
    meter = await meter_in_scope(session, scope, meter_id, manage=True)
    site_id, external_id = meter.site_id, meter.external_id
    if external_id in (await current(session, site_id)).inventory.by_id():
        await inventory.remove_meter(session, site_id, external_id, origin, author, scope)
    else:
        await db_meters.delete_meter(session, meter_id)
    return True
