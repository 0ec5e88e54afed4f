"""Inventory types, derived from the one definition in db/inventory.py (meters, points) and db/inventory_history.py."""

import strawberry
from strawberry.experimental.pydantic import input as pydantic_input
from strawberry.experimental.pydantic import type as pydantic_type

from api.services import inventory as service
from db.inventory import InventoryMeter as MeterModel
from db.inventory import InventoryPoint as PointModel
from db.inventory_history import InventoryConflictEntry as ConflictModel
from db.inventory_history import InventoryHistoryEntry as ChangeModel
from db.inventory_history import rebuild


@pydantic_type(model=PointModel, all_fields=True, description="A value read from a meter (bacpypes3 names).")
class InventoryPoint:
    """A point of an inventory meter."""


@pydantic_type(model=MeterModel, all_fields=True, description="A meter of a site's inventory.")
class InventoryMeter:
    """A meter of an inventory version."""


@pydantic_input(
    model=PointModel, all_fields=True, description="A point to read (bacpypes3 or camelCase names)."
)
class InventoryPointInput:
    """A point in an edit or a proposal."""


@pydantic_input(model=MeterModel, all_fields=True, description="A whole meter, as the edge proposes it.")
class InventoryMeterInput:
    """A meter in a proposal."""


@pydantic_type(model=ConflictModel, all_fields=True)
class InventoryConflict:
    """A field both sides changed differently: the value kept (central's) and the one recorded instead."""


@pydantic_type(model=ChangeModel, all_fields=True)
class InventoryChange:
    """One entry of a site's inventory history (db/inventory_history.py)."""


@strawberry.type
class SiteInventory:
    """A site's meter inventory at its current version, with its newest history entries."""

    site_id: strawberry.ID
    version: int
    digest: str
    meters: list[InventoryMeter]
    conflicts: list[InventoryConflict] = strawberry.field(
        description="conflicts of the change this answer follows (empty on a plain read)"
    )
    history: list[InventoryChange]

    @classmethod
    def from_service(cls, found: service.SiteInventory) -> "SiteInventory":
        """From the service's answer."""
        return cls(
            site_id=strawberry.ID(str(found.site_id)),
            version=found.version,
            digest=found.inventory.digest(),
            meters=[meter_type(m) for m in found.inventory.meters],
            conflicts=[rebuild(ConflictModel.stored(c), InventoryConflict) for c in found.conflicts],
            history=[
                rebuild(ChangeModel.stored(row), InventoryChange, conflicts=InventoryConflict)
                for row in found.history
            ],
        )


@strawberry.input
class InventoryProposalInput:
    """The edge's whole inventory, and the version it last applied (null before its first)."""

    base_version: int | None
    origin: str = strawberry.field(description="file, edge_dashboard or discovery")
    author: str | None = None
    meters: list[InventoryMeterInput]


@strawberry.input
class MeterEditInput:
    """A change to one meter; fields left null keep their value, points (when given) replace the list."""

    external_id: str
    name: str | None = None
    bacnet_address: str | None = None
    bacnet_device_id: int | None = None
    enabled: bool | None = None
    interval_seconds: float | None = None
    points: list[InventoryPointInput] | None = None


def meter_type(meter: MeterModel) -> InventoryMeter:
    """The GraphQL meter of an inventory meter (db/inventory_history.py rebuild says why not from_pydantic)."""
    return rebuild(meter, InventoryMeter, points=InventoryPoint)
