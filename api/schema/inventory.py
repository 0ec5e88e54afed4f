"""Site inventories: the versioned meter configuration of each site, its history, edits and edge proposals.

The meter and point types are derived from the one definition in db/inventory.py (Strawberry's pydantic
integration), so the edge, the dashboards and MCP see the same fields.
"""

import json
from datetime import datetime

import strawberry
from strawberry.experimental.pydantic import input as pydantic_input
from strawberry.experimental.pydantic import type as pydantic_type
from strawberry.types import Info

from api.schema.ids import to_int
from api.schema.permissions import IsAuthenticated, IsSite, scope
from api.services import inventory as service
from db.inventory import InventoryMeter as MeterModel
from db.inventory import InventoryPoint as PointModel

ORIGIN_HEADER = "x-meterit-origin"


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


@strawberry.type
class InventoryConflict:
    """A field both sides changed differently: the value kept (central's) and the one recorded instead."""

    meter: str
    field: str
    kept: str
    dropped: str

    @classmethod
    def from_dict(cls, item: dict) -> "InventoryConflict":
        """From a stored conflict."""
        return cls(
            meter=item["meter"],
            field=item["field"],
            kept=json.dumps(item.get("kept")),
            dropped=json.dumps(item.get("dropped")),
        )


@strawberry.type
class InventoryChange:
    """One entry of a site's inventory history."""

    version: int | None = strawberry.field(
        description="the version it made; null when every edit lost a conflict"
    )
    base_version: int | None
    origin: str
    author: str | None
    created_at: datetime
    changes: list[str]
    conflicts: list[InventoryConflict]


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
            conflicts=[InventoryConflict.from_dict(c) for c in found.conflicts],
            history=[
                InventoryChange(
                    version=row.version,
                    base_version=row.base_version,
                    origin=row.origin,
                    author=row.author,
                    created_at=row.created_at,
                    changes=list(row.changes or []),
                    conflicts=[InventoryConflict.from_dict(c) for c in row.conflicts or []],
                )
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


def as_dicts(items) -> list[dict]:
    """Strawberry inputs as plain dicts (validated by the service, which explains any problem)."""
    return [strawberry.asdict(item) for item in items]


def people_origin(info: Info) -> str:
    """Where a person's edit came from: the central dashboard says so in a header; else plain GraphQL."""
    request = info.context.request
    header = request.headers.get(ORIGIN_HEADER, "") if request is not None else ""
    return "central_dashboard" if header == "central_dashboard" else "graphql"


def edit_fields(meter: MeterEditInput) -> dict:
    """The editable fields of a MeterEditInput."""
    return {name: getattr(meter, name) for name in service.EDITABLE}


@strawberry.type
class InventoryQuery:
    """Reading inventories."""

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def site_inventory(self, info: Info, site_id: strawberry.ID, history: int = 20) -> SiteInventory:
        """A site's meter inventory with its version and history."""
        async with info.context.session() as session:
            found = await service.site_inventory(session, to_int(site_id, "site id"), scope(info), history)
        return SiteInventory.from_service(found)


@strawberry.type
class InventoryMutation:
    """Changing inventories: people at central, and the edge's proposals."""

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    async def edit_meter(self, info: Info, site_id: strawberry.ID, meter: MeterEditInput) -> SiteInventory:
        """Change (or add) one meter of a site's inventory; the edge applies it at its next sync."""
        points = None if meter.points is None else as_dicts(meter.points)
        async with info.context.session() as session:
            found = await service.edit_meter(
                session, to_int(site_id, "site id"), meter.external_id, edit_fields(meter), points,
                people_origin(info), info.context.user.email, scope(info),
            )  # fmt: skip
        return SiteInventory.from_service(found)

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    async def remove_meter(self, info: Info, site_id: strawberry.ID, external_id: str) -> SiteInventory:
        """Take a meter out of a site's inventory (its readings stay)."""
        async with info.context.session() as session:
            found = await service.remove_meter(
                session, to_int(site_id, "site id"), external_id, people_origin(info), info.context.user.email,
                scope(info),
            )  # fmt: skip
        return SiteInventory.from_service(found)

    @strawberry.mutation(permission_classes=[IsSite])
    async def propose_inventory(self, info: Info, proposal: InventoryProposalInput) -> SiteInventory:
        """The edge's inventory, merged into its site's (see docs/contracts.md for the rule)."""
        ctx = info.context
        async with ctx.session() as session:
            found = await service.propose(
                session, ctx.site.id, proposal.base_version, as_dicts(proposal.meters), proposal.origin,
                proposal.author,
            )  # fmt: skip
        return SiteInventory.from_service(found)


def meter_type(meter: MeterModel) -> InventoryMeter:
    """The GraphQL meter of an inventory meter, its points converted here: Strawberry's pydantic registry keeps
    one type per model, and central's and the edge's schemas both derive types from the same models."""
    fields = {name: getattr(meter, name) for name in MeterModel.model_fields if name != "points"}
    return InventoryMeter(**fields, points=[InventoryPoint(**p.model_dump()) for p in meter.points])
