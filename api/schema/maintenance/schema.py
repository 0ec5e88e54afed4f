"""Maintenance query: a site's windows, for everyone logged in."""

import strawberry
from strawberry.types import Info

from api.schema.ids import to_int
from api.schema.maintenance.types import MaintenanceWindow
from api.schema.permissions import IsAuthenticated, scope
from api.services import maintenance as service


@strawberry.type
class MaintenanceQuery:
    """Queries about maintenance windows."""

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def maintenance_windows(self, info: Info, site_id: strawberry.ID) -> list[MaintenanceWindow]:
        """A site's windows, by first start."""
        async with info.context.session() as session:
            rows, zone = await service.list_windows(session, to_int(site_id, "site id"), scope(info))
        return [MaintenanceWindow.from_model(r, zone) for r in rows]
