"""Maintenance windows for dashboards: list a site's, create, change and delete them (checked here)."""

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import InvalidInput, NotFoundError
from api.services.access import Scope
from causes import Cause, text
from db.central import maintenance_windows as store
from db.central.models import Site
from db.errors import NotFound

MAX_NOTE = 500
MAX_ONE_OFF = timedelta(days=92)


def _check(starts_at: datetime, ends_at: datetime, repeat: str, note: str) -> dict:
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise InvalidInput("startsAt and endsAt need a time zone (e.g. 2026-12-06T02:00:00Z)")
    if ends_at <= starts_at:
        raise InvalidInput("endsAt must be after startsAt")
    if repeat not in store.REPEATS:
        raise InvalidInput(f"repeat must be one of {', '.join(store.REPEATS)}")
    period = store.PERIODS.get(repeat)
    if period is not None and ends_at - starts_at >= period:
        raise InvalidInput(f"a {repeat} window must be shorter than {period.days} day(s)")
    if period is None and ends_at - starts_at > MAX_ONE_OFF:
        raise InvalidInput(f"a one-off window may last at most {MAX_ONE_OFF.days} days")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"the note may hold at most {MAX_NOTE} characters")
    return {"starts_at": starts_at, "ends_at": ends_at, "repeat": repeat, "note": note}


async def list_windows(
    session: AsyncSession, site_id: int, scope: Scope
) -> tuple[list[store.MaintenanceWindow], str]:
    """A site's windows and its time zone; NotFoundError for an unknown site or one out of the caller's scope."""
    scope.check_read(site_id)
    site = await session.get(Site, site_id)
    if site is None:
        raise NotFoundError(text(Cause.UNKNOWN_SITE, site_id=site_id))
    return await store.list_windows(session, site_id), site.timezone


async def create_window(
    session: AsyncSession,
    site_id: int,
    starts_at: datetime,
    ends_at: datetime,
    repeat: str = store.ONCE,
    note: str = "",
    by: str | None = None,
    *,
    scope: Scope,
) -> tuple[store.MaintenanceWindow, str]:
    """A new window of a site (its managers), and the site's time zone."""
    scope.check_manage(site_id)
    fields = _check(starts_at, ends_at, repeat, note)
    site = await session.get(Site, site_id)
    if site is None:
        raise NotFoundError(text(Cause.UNKNOWN_SITE, site_id=site_id))
    return await store.add_window(session, site_id, created_by=by, **fields), site.timezone


async def _managed(session: AsyncSession, window_id: int, scope: Scope) -> None:
    """NotFoundError for a window that does not exist or is out of scope; Forbidden unless its site's manager."""
    try:
        window = await store.get_window(session, window_id)
    except NotFound as err:
        raise NotFoundError(str(err)) from err
    if not scope.reads(window.site_id):
        raise NotFoundError(f"no maintenance window with id {window_id}")
    scope.check_manage(window.site_id)


async def update_window(
    session: AsyncSession,
    window_id: int,
    starts_at: datetime,
    ends_at: datetime,
    repeat: str,
    note: str,
    *,
    scope: Scope,
) -> tuple[store.MaintenanceWindow, str]:
    """Replace a window's times, repeat and note (its site's managers)."""
    await _managed(session, window_id, scope)
    fields = _check(starts_at, ends_at, repeat, note)
    try:
        window = await store.change_window(session, window_id, **fields)
    except NotFound as err:
        raise NotFoundError(str(err)) from err
    site = await session.get(Site, window.site_id)
    return window, site.timezone if site else "UTC"


async def delete_window(session: AsyncSession, window_id: int, *, scope: Scope) -> store.MaintenanceWindow:
    """Remove a window (its site's managers)."""
    await _managed(session, window_id, scope)
    try:
        return await store.delete_window(session, window_id)
    except NotFound as err:
        raise NotFoundError(str(err)) from err
