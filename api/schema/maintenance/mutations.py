"""Maintenance mutations: create, change and delete a site's windows."""

import strawberry
from strawberry.types import Info

from api.schema.ids import to_int
from api.schema.maintenance.types import MaintenanceWindow, MaintenanceWindowInput
from api.schema.permissions import IsAuthenticated, scope
from api.services import maintenance as service


@strawberry.type
class MaintenanceMutation:
    """Changes to maintenance windows (the site's managers)."""

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    async def create_maintenance_window(
        self, info: Info, site_id: strawberry.ID, window: MaintenanceWindowInput
    ) -> MaintenanceWindow:
        """Add a window to a site."""
        async with info.context.session() as session:
            row, zone = await service.create_window(
                session,
                to_int(site_id, "site id"),
                window.starts_at,
                window.ends_at,
                window.repeat.value,
                window.note,
                by=info.context.user.email,
                scope=scope(info),
            )
        return MaintenanceWindow.from_model(row, zone)

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    async def update_maintenance_window(
        self, info: Info, id: strawberry.ID, window: MaintenanceWindowInput
    ) -> MaintenanceWindow:
        """Replace a window's times, repeat and note."""
        async with info.context.session() as session:
            row, zone = await service.update_window(
                session, to_int(id, "window id"), window.starts_at, window.ends_at, window.repeat.value,
                window.note, scope=scope(info),
            )  # fmt: skip
        return MaintenanceWindow.from_model(row, zone)

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    async def delete_maintenance_window(self, info: Info, id: strawberry.ID) -> strawberry.ID:
        """Remove a window; returns its id."""
        async with info.context.session() as session:
            row = await service.delete_window(session, to_int(id, "window id"), scope=scope(info))
        return strawberry.ID(str(row.id))
