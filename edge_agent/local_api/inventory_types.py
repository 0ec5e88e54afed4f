"""The site inventory in the local API: what runs, its version, a change not yet accepted, central's history.

Meter and point types derive from the one definition in db/inventory.py, as central's do.
"""

import json
from datetime import datetime

import strawberry
from strawberry.experimental.pydantic import type as pydantic_type

from db.inventory import InventoryMeter as MeterModel
from db.inventory import InventoryPoint as PointModel
from edge_agent.inventory import EdgeInventory


@pydantic_type(model=PointModel, all_fields=True, description="A value read from a meter (bacpypes3 names).")
class InventoryPoint:
    """A point of an inventory meter."""


@pydantic_type(model=MeterModel, all_fields=True, description="A meter of the site's inventory.")
class InventoryMeter:
    """A meter as it runs here."""


@strawberry.type
class InventoryConflict:
    """A field both sides changed: central's value was kept, this site's is recorded in the history."""

    meter: str
    field: str
    kept: str
    dropped: str


@strawberry.type
class InventoryChange:
    """One entry of the site's inventory history (as central last sent it)."""

    version: int | None
    origin: str
    author: str | None
    created_at: datetime
    changes: list[str]
    conflicts: list[InventoryConflict]


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
                InventoryChange(
                    version=h.get("version"),
                    origin=h["origin"],
                    author=h.get("author"),
                    created_at=datetime.fromisoformat(h["createdAt"]),
                    changes=h.get("changes") or [],
                    conflicts=[_conflict(c) for c in h.get("conflicts") or []],
                )
                for h in inventory.history
            ],
        )


def _conflict(item: dict) -> InventoryConflict:
    # central sends kept/dropped already as JSON text; keep it as is
    def text(value) -> str:
        return value if isinstance(value, str) else json.dumps(value)

    return InventoryConflict(
        meter=item["meter"], field=item["field"], kept=text(item["kept"]), dropped=text(item["dropped"])
    )


def meter_type(meter: MeterModel) -> InventoryMeter:
    """The GraphQL meter of an inventory meter, its points converted here: Strawberry's pydantic registry keeps
    one type per model, and central's and the edge's schemas both derive types from the same models."""
    fields = {name: getattr(meter, name) for name in MeterModel.model_fields if name != "points"}
    return InventoryMeter(**fields, points=[InventoryPoint(**p.model_dump()) for p in meter.points])
