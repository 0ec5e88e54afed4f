"""Site inventories (the control plane): the current version, edge proposals, edits by people, history.

One service under GraphQL (edge and dashboards) and MCP. Every change is a new version recorded with its
origin, author and what changed; the merge rule for an edge's proposal is in db/inventory.py.
"""

from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import InvalidInput, NotFoundError
from api.services.access import ADMIN, Scope
from causes import Cause, text
from db.central import inventory_store as store
from db.central.inventory_store import InventoryVersion
from db.central.models import InventoryChange, Meter, Site
from db.inventory import (
    EDGE_ORIGINS,
    PEOPLE_ORIGINS,
    Inventory,
    InventoryError,
    describe,
    merge,
    parse_inventory,
)

EDITABLE = ("name", "bacnet_address", "bacnet_device_id", "enabled", "interval_seconds")


@dataclass
class SiteInventory:
    """A site's current inventory, the conflicts of the change that made it (if just made), and its history."""

    site_id: int
    version: int
    inventory: Inventory
    history: list[InventoryChange]
    conflicts: list[dict]


def _inventory(meters) -> Inventory:
    try:
        return parse_inventory(meters)
    except InventoryError as err:
        raise InvalidInput(str(err)) from err


def _origin(origin: str, allowed: tuple[str, ...]) -> str:
    if origin not in allowed:
        raise InvalidInput(f"origin must be one of {', '.join(allowed)} (got {origin!r})")
    return origin


async def _site(session: AsyncSession, site_id: int) -> Site:
    site = await session.get(Site, site_id)
    if site is None:
        raise NotFoundError(text(Cause.UNKNOWN_SITE, site_id=site_id))
    return site


async def site_inventory(
    session: AsyncSession, site_id: int, scope: Scope, history: int = 20, made: InventoryVersion | None = None
) -> SiteInventory:
    """A site's inventory now with its newest history entries (made: the version a change just recorded)."""
    scope.check_read(site_id)
    await _site(session, site_id)
    now = made or await store.current(session, site_id)
    rows = await store.history(session, site_id, max(0, min(history, 200))) if history else []
    return SiteInventory(site_id, now.version, now.inventory, rows, now.conflicts)


async def propose(
    session: AsyncSession,
    site_id: int,
    base_version: int | None,
    meters: list[dict],
    origin: str,
    author: str | None,
) -> SiteInventory:
    """Merge an edge's inventory into the site's (three-way, against the version the edge last applied)."""
    _origin(origin, EDGE_ORIGINS)
    proposal = _inventory(meters)
    now = await store.current(session, site_id, lock=True)
    base = await store.at_version(session, site_id, base_version) if base_version is not None else None
    merged, conflicts = merge(base or Inventory(), now.inventory, proposal)
    try:
        merged = Inventory.model_validate(merged.model_dump())  # the site's limits hold for the union too
    except ValidationError as err:
        raise InvalidInput(describe(err, [m.model_dump() for m in merged.meters])) from err
    made = await store.record(session, site_id, now, merged, origin, author, conflicts, base_version)
    return await site_inventory(session, site_id, ADMIN, made=made)


async def _starting_point(session: AsyncSession, site_id: int, external_id: str, now: Inventory) -> dict:
    """The meter as it stands: its inventory entry, or what central knows of an undefined (placeholder) one."""
    known = now.by_id().get(external_id)
    if known is not None:
        return known.model_dump()
    row = await session.scalar(
        select(Meter).where(Meter.site_id == site_id, Meter.external_id == external_id)
    )
    if row is None:
        return {"external_id": external_id, "name": external_id, "points": []}
    # A placeholder's points (analog-input 0 each) are guesses from upload names: never send them to the edge.
    return {
        "external_id": external_id,
        "name": row.name,
        "bacnet_address": row.bacnet_address,
        "bacnet_device_id": row.bacnet_device_id,
        "enabled": row.enabled,
        "points": await store.defined_points(session, row),
    }


async def edit_meter(
    session: AsyncSession,
    site_id: int,
    external_id: str,
    fields: dict,
    points: list[dict] | None,
    origin: str,
    author: str | None,
    scope: Scope,
) -> SiteInventory:
    """Change one meter (fields given as None stay; points, when given, replace the list) as a new version."""
    _origin(origin, PEOPLE_ORIGINS)
    scope.check_manage(site_id)
    await _site(session, site_id)
    external_id = (external_id or "").strip()
    if not external_id:
        raise InvalidInput("a meter needs an external id")
    now = await store.current(session, site_id, lock=True)
    meter = await _starting_point(session, site_id, external_id, now.inventory)
    meter.update({k: v for k, v in fields.items() if k in EDITABLE and v is not None})
    if points is not None:
        meter["points"] = points
    if not meter.get("bacnet_address"):
        raise InvalidInput(f"meter {external_id!r}: a BACnet address is needed before the edge can poll it")
    others = [m.model_dump() for m in now.inventory.meters if m.external_id != external_id]
    after = _inventory([*others, meter])
    made = await store.record(session, site_id, now, after, origin, author)
    return await site_inventory(session, site_id, ADMIN, made=made)


async def remove_meter(
    session: AsyncSession, site_id: int, external_id: str, origin: str, author: str | None, scope: Scope
) -> SiteInventory:
    """Take a meter out of the site's inventory (its stored readings stay)."""
    _origin(origin, PEOPLE_ORIGINS)
    scope.check_manage(site_id)
    await _site(session, site_id)
    now = await store.current(session, site_id, lock=True)
    if external_id not in now.inventory.by_id():
        raise NotFoundError(f"site {site_id} has no meter {external_id!r} in its inventory")
    after = Inventory(meters=tuple(m for m in now.inventory.meters if m.external_id != external_id))
    made = await store.record(session, site_id, now, after, origin, author)
    return await site_inventory(session, site_id, ADMIN, made=made)
