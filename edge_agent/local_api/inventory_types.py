"""The site inventory in the local API: what runs, its version, a change not yet accepted, central's history.

Meter, point and history types derive from the one definition in db/inventory.py and db/inventory_history.py,
as central's do.
"""

from strawberry.experimental.pydantic import type as pydantic_type

from db.inventory import InventoryMeter as MeterModel
from db.inventory import InventoryPoint as PointModel
from db.inventory_history import InventoryConflictEntry as ConflictModel
from db.inventory_history import InventoryHistoryEntry as ChangeModel
from db.inventory_history import rebuild
from edge_agent.models import InventoryView


@pydantic_type(model=PointModel, all_fields=True, description="A value read from a meter (bacpypes3 names).")
class InventoryPoint:
    """A point of an inventory meter."""


@pydantic_type(model=MeterModel, all_fields=True, description="A meter of the site's inventory.")
class InventoryMeter:
    """A meter as it runs here."""


@pydantic_type(model=ConflictModel, all_fields=True)
class InventoryConflict:
    """A field both sides changed: central's value was kept, this site's is recorded in the history."""


@pydantic_type(model=ChangeModel, all_fields=True)
class InventoryChange:
    """One entry of the site's inventory history (as central last sent it; db/inventory_history.py)."""


@pydantic_type(model=InventoryView, all_fields=True)
class SiteInventory:
    """The inventory this agent runs (edge_agent.models.InventoryView, which the MCP tool returns too)."""


def _site_inventory(cls, view: InventoryView) -> SiteInventory:
    """From the agent's inventory view; nested records by rebuild (db/inventory_history.py says why)."""
    fields = {name: getattr(view, name) for name in ("version", "pending", "pending_origin", "digest")}
    return cls(
        **fields,
        meters=[meter_type(m) for m in view.meters],
        conflicts=[rebuild(c, InventoryConflict) for c in view.conflicts],
        history=[rebuild(h, InventoryChange, conflicts=InventoryConflict) for h in view.history],
    )


SiteInventory.from_model = classmethod(_site_inventory)


def meter_type(meter: MeterModel) -> InventoryMeter:
    """The GraphQL meter of an inventory meter (db/inventory_history.py rebuild says why not from_pydantic)."""
    return rebuild(meter, InventoryMeter, points=InventoryPoint)
