"""Central's versioned meter inventories: read the current version, record a change, mirror it into meters.

The meters and data_points tables stay the place queries, ingest and alerts read; every new inventory version
is mirrored into them here (placeholders that uploads registered are upgraded, never the other way round).
"""

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.central.cache_notify import site_config_changed
from db.central.meters import delete_meter, upsert_meter
from db.central.models import DataPoint, InventoryChange, Meter, Site
from db.inventory import Inventory, InventoryMeter, changes, parse_inventory, point_fields


@dataclass
class InventoryVersion:
    """A site's inventory as of one version (0: nothing recorded yet)."""

    version: int
    inventory: Inventory
    conflicts: list[dict] = field(default_factory=list)


async def current(session: AsyncSession, site_id: int, lock: bool = False) -> InventoryVersion:
    """The newest version of a site's inventory; lock=True serialises writers on the site row (PostgreSQL)."""
    if lock and session.bind.dialect.name == "postgresql":
        await session.execute(select(Site.id).where(Site.id == site_id).with_for_update())
    row = await session.scalar(
        select(InventoryChange)
        .where(InventoryChange.site_id == site_id, InventoryChange.version.is_not(None))
        .order_by(InventoryChange.version.desc())
        .limit(1)
    )
    if row is None:
        return InventoryVersion(0, Inventory())
    return InventoryVersion(row.version, parse_inventory(row.document))


async def at_version(session: AsyncSession, site_id: int, version: int | None) -> Inventory | None:
    """The inventory a site had at a version (empty for 0), or None when that version is unknown."""
    if not version:
        return Inventory() if version == 0 else None
    row = await session.scalar(
        select(InventoryChange).where(InventoryChange.site_id == site_id, InventoryChange.version == version)
    )
    return None if row is None else parse_inventory(row.document)


async def record(
    session: AsyncSession,
    site_id: int,
    before: InventoryVersion,
    after: Inventory,
    origin: str,
    author: str | None,
    conflicts: list[dict] | None = None,
    base_version: int | None = None,
) -> InventoryVersion:
    """Store after as the next version when it differs from before (mirrored into meters); else note conflicts."""
    conflicts = conflicts or []
    lines = changes(before.inventory, after)
    if not lines:
        if conflicts:
            session.add(
                InventoryChange(
                    site_id=site_id, version=None, base_version=base_version, origin=origin,
                    author=author, changes=[], conflicts=conflicts,
                )
            )  # fmt: skip
            await session.flush()
        return InventoryVersion(before.version, before.inventory, conflicts)
    version = before.version + 1
    session.add(
        InventoryChange(
            site_id=site_id, version=version, base_version=base_version, origin=origin, author=author,
            document=after.document(), changes=lines, conflicts=conflicts,
        )
    )  # fmt: skip
    await mirror(session, site_id, before.inventory, after)
    await session.flush()
    await site_config_changed(session, site_id)  # every API worker's cached siteConfig, at commit
    return InventoryVersion(version, after, conflicts)


async def mirror(session: AsyncSession, site_id: int, before: Inventory, after: Inventory) -> None:
    """Make the meters and data_points tables match an inventory version."""
    old = before.by_id()
    for meter in after.meters:
        if old.get(meter.external_id) == meter:
            continue
        await upsert_meter(session, site_id, meter.external_id, meter_fields(meter), point_rows(meter))
    for gone in set(old) - set(after.by_id()):
        row = await session.scalar(select(Meter).where(Meter.site_id == site_id, Meter.external_id == gone))
        if row is not None:
            await delete_meter(session, row.id)


def meter_fields(meter: InventoryMeter) -> dict:
    """Columns of the meters table for an inventory meter (interval in its config)."""
    return {
        "name": meter.name,
        "bacnet_device_id": meter.bacnet_device_id,
        "bacnet_address": meter.bacnet_address,
        "enabled": meter.enabled,
        "config": {"interval_seconds": meter.interval_seconds},
    }


def point_rows(meter: InventoryMeter) -> list[dict]:
    """Rows of data_points for an inventory meter."""
    return [p.model_dump() for p in meter.points]


async def defined_points(session: AsyncSession, meter: Meter) -> list[dict]:
    """A meter row's points that someone defined (never the placeholders an upload registered)."""
    points = await session.scalars(
        select(DataPoint).where(DataPoint.meter_id == meter.id, DataPoint.discovered.is_(False))
    )
    return [point_fields(p) for p in points]


async def history(session: AsyncSession, site_id: int, limit: int = 50) -> list[InventoryChange]:
    """A site's inventory changes, newest first."""
    query = (
        select(InventoryChange)
        .where(InventoryChange.site_id == site_id)
        .order_by(InventoryChange.id.desc())
        .limit(limit)
    )
    return list(await session.scalars(query))
