"""The site inventory in the local API: what runs, its version, a change not yet accepted, central's history.

Meter, point and history types derive from the one definition in db/inventory.py and db/inventory_history.py,
as central's do.
"""

import strawberry
from strawberry.experimental.pydantic import type as pydantic_type

from db.inventory import InventoryMeter as MeterModel
from db.inventory import InventoryPoint as PointModel
from db.inventory_history import InventoryConflictEntry as ConflictModel
from db.inventory_history import InventoryHistoryEntry as ChangeModel
from db.inventory_history import rebuild
from edge_agent.inventory import EdgeInventory


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


@strawberry.type
class SiteInventory:
    """The inventory this agent runs."""

    version: int | None = strawberry.field(
        description="central's version last applied; null before first contact"
    )
    pending: bool = strawberry.field(description="a change made here that central has not answered yet")
    pending_origin: str | None
    digest: str
    meters: list[InventoryMeter]
    conflicts: list[InventoryConflict] = strawberry.field(
        description="of the last answer to a change made here"
    )
    history: list[InventoryChange]

    @classmethod
    def from_model(cls, inventory: EdgeInventory) -> "SiteInventory":
        """From the agent's inventory state (history entries come from central's camelCase answer)."""
        return cls(
            version=inventory.version,
            pending=inventory.pending is not None,
            pending_origin=(inventory.pending or {}).get("origin"),
            digest=inventory.running.digest(),
            meters=[meter_type(m) for m in inventory.running.meters],
            conflicts=[_conflict(c) for c in inventory.conflicts],
            history=[
                rebuild(ChangeModel.model_validate(h), InventoryChange, conflicts=InventoryConflict)
                for h in inventory.history
            ],
        )


def _conflict(item: dict) -> InventoryConflict:
    # central sends kept/dropped already as JSON text; the model keeps such text as it is
    return rebuild(ConflictModel.model_validate(item), InventoryConflict)


def meter_type(meter: MeterModel) -> InventoryMeter:
    """The GraphQL meter of an inventory meter (db/inventory_history.py rebuild says why not from_pydantic)."""
    return rebuild(meter, InventoryMeter, points=InventoryPoint)
