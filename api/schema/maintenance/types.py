"""Maintenance window types: a window with where it stands now, and its input."""

from datetime import datetime
from enum import Enum

import strawberry

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
