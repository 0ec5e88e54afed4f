"""Maintenance windows: a site's windows for everyone logged in; create, change and delete them for admins."""

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from api.schema.ids import to_int
from api.schema.permissions import IsAuthenticated, scope
from api.services import maintenance as service
from db.central import maintenance_windows as windows
from db.clock import utcnow


@strawberry.enum
class Repeat(Enum):
    """How a window recurs: once, every day or every week at the same local time of the site."""

    NONE = windows.ONCE
    DAILY = windows.DAILY
    WEEKLY = windows.WEEKLY


@strawberry.type
class MaintenanceWindow:
    """A time a site raises no alerts; `activeNow` and `nextStart`/`nextEnd` say where it stands now."""

    id: strawberry.ID
    site_id: strawberry.ID
    starts_at: datetime
    ends_at: datetime
    repeat: Repeat
    note: str
    created_by: str | None
    timezone: str
    active_now: bool
    next_start: datetime | None
    next_end: datetime | None

    @classmethod
    def from_model(cls, row: windows.MaintenanceWindow, timezone: str) -> "MaintenanceWindow":
        """From a maintenance_windows row and its site's time zone, as of the process clock."""
        now = utcnow()
        coming = windows.next_occurrence(row, timezone, now)
        return cls(
            id=strawberry.ID(str(row.id)),
            site_id=strawberry.ID(str(row.site_id)),
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            repeat=Repeat(row.repeat),
            note=row.note,
            created_by=row.created_by,
            timezone=timezone,
            active_now=coming is not None and coming.start <= now,
            next_start=coming.start if coming else None,
            next_end=coming.end if coming else None,
        )


@strawberry.input
class MaintenanceWindowInput:
    """A window's first start and end (with a zone), how it repeats and why."""

    starts_at: datetime
    ends_at: datetime
    repeat: Repeat = Repeat.NONE
    note: str = ""


@strawberry.type
class MaintenanceQuery:
    """Queries about maintenance windows."""

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def maintenance_windows(self, info: Info, site_id: strawberry.ID) -> list[MaintenanceWindow]:
        """A site's windows, by first start."""
        async with info.context.session() as session:
            rows, zone = await service.list_windows(session, to_int(site_id, "site id"), scope(info))
        return [MaintenanceWindow.from_model(r, zone) for r in rows]


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
