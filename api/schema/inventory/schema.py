"""Inventory query: siteInventory, a site's versioned meter configuration and history."""

import strawberry
from strawberry.types import Info

from api.schema.ids import to_int
from api.schema.inventory.types import SiteInventory
from api.schema.permissions import IsAuthenticated, scope
from api.services import inventory as service


@strawberry.type
class InventoryQuery:
    """Reading inventories."""

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def site_inventory(self, info: Info, site_id: strawberry.ID, history: int = 20) -> SiteInventory:
        """A site's meter inventory with its version and history."""
        async with info.context.session() as session:
            found = await service.site_inventory(session, to_int(site_id, "site id"), scope(info), history)
        return SiteInventory.from_service(found)
