"""Inventory mutations: people's edits at central and the edge's proposals."""

import strawberry
from strawberry.types import Info

from api.schema.ids import to_int
from api.schema.inventory.types import InventoryProposalInput, MeterEditInput, SiteInventory
from api.schema.permissions import IsAuthenticated, IsSite, scope
from api.services import inventory as service

ORIGIN_HEADER = "x-meterit-origin"


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
