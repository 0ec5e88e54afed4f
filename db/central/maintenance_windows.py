"""Maintenance windows: times (once, daily or weekly, in the site's time zone) when a site raises no alerts."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Column, ForeignKey, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field

from db.central.models import CentralTable, Site
from db.clock import utcnow
from db.errors import NotFound
from db.types import BigId, UTCDateTime

ONCE, DAILY, WEEKLY = "none", "daily", "weekly"
PERIODS = {DAILY: timedelta(days=1), WEEKLY: timedelta(days=7)}
REPEATS = (ONCE, DAILY, WEEKLY)
WINDOW_FIELDS = ("starts_at", "ends_at", "repeat", "note")


class MaintenanceWindow(CentralTable, table=True):
    """A time a site is in maintenance; a repeating one recurs at the same local time each day or week."""

    __tablename__ = "maintenance_windows"
    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    site_id: int = Field(
        sa_column=Column(BigId, ForeignKey("sites.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    repeat: str = Field(default=ONCE, max_length=16)
    note: str = Field(default="", max_length=500)
    created_by: str | None = Field(default=None, max_length=254)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


@dataclass(frozen=True)
class Occurrence:
    """One stretch of a window: [start, end)."""

    start: datetime
    end: datetime


def occurrence_at(window, timezone: str, at: datetime) -> Occurrence | None:
    """The stretch of the window that holds `at`, None when none does."""
    found = next_occurrence(window, timezone, at)
    return found if found is not None and found.start <= at else None


def next_occurrence(window, timezone: str, at: datetime) -> Occurrence | None:
    """The stretch holding `at`, else the next one to come (None when the window is over)."""
    period = PERIODS.get(window.repeat)
    if period is None:
        return Occurrence(window.starts_at, window.ends_at) if at < window.ends_at else None
    zone = ZoneInfo(timezone)
    start_local = window.starts_at.astimezone(zone).replace(tzinfo=None)
    n = max(0, int((at.astimezone(zone).replace(tzinfo=None) - start_local) / period) - 1)
    for k in range(n, n + 4):
        # Repeats keep the local wall-clock time, so a weekly 02:00 window stays at 02:00 across DST changes.
        start = (start_local + k * period).replace(tzinfo=zone).astimezone(window.starts_at.tzinfo)
        if at < start + (window.ends_at - window.starts_at):
            return Occurrence(start, start + (window.ends_at - window.starts_at))
    return None


def quiet_sites(windows: Iterable, timezones: dict[int, str], at: datetime) -> set[int]:
    """Ids of the sites with a window holding `at`."""
    return {w.site_id for w in windows if occurrence_at(w, timezones.get(w.site_id, "UTC"), at) is not None}


async def list_windows(session: AsyncSession, site_id: int | None = None) -> list[MaintenanceWindow]:
    """Every window (of one site when given), by start."""
    query = select(MaintenanceWindow)
    if site_id is not None:
        query = query.where(MaintenanceWindow.site_id == site_id)
    return list(await session.scalars(query.order_by(MaintenanceWindow.starts_at, MaintenanceWindow.id)))


async def site_timezones(session: AsyncSession) -> dict[int, str]:
    """Every site's time zone by id."""
    return dict((await session.execute(select(Site.id, Site.timezone))).all())


async def get_window(session: AsyncSession, window_id: int) -> MaintenanceWindow:
    """One window; NotFound otherwise."""
    window = await session.get(MaintenanceWindow, window_id)
    if window is None:
        raise NotFound(f"no maintenance window with id {window_id}")
    return window


async def add_window(session: AsyncSession, site_id: int, **fields) -> MaintenanceWindow:
    """Insert a window (validated by the caller)."""
    window = MaintenanceWindow(site_id=site_id, **fields)
    session.add(window)
    await session.flush()
    return window


async def change_window(session: AsyncSession, window_id: int, **fields) -> MaintenanceWindow:
    """Set the given (non-None) fields of a window."""
    window = await get_window(session, window_id)
    for name, value in fields.items():
        if name in WINDOW_FIELDS and value is not None:
            setattr(window, name, value)
    await session.flush()
    return window


async def delete_window(session: AsyncSession, window_id: int) -> MaintenanceWindow:
    """Remove a window; returns the removed row."""
    window = await get_window(session, window_id)
    await session.delete(window)
    await session.flush()
    return window
