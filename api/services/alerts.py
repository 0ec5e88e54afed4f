"""Alerts for dashboards and MCP: list, get, acknowledge (with a note), resolve by hand."""

from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import InvalidInput, NotFoundError
from api.services.access import Scope, alert_in_scope
from db.central import alerts as db_alerts
from db.central.models import Alert, User
from db.errors import NotFound

MAX_NOTE = 1000


async def list_alerts(
    session: AsyncSession,
    scope: Scope,
    status: str = "open",
    site_id: int | None = None,
    limit: int = 100,
    *,
    kind: str | None = None,
    severity: str | None = None,
) -> list[tuple[Alert, str | None]]:
    """The caller's alerts with their site names, newest first (limit capped at 1000; fleet-wide: admins)."""
    if site_id is not None:
        scope.check_read(site_id)
    return await db_alerts.list_alerts(
        session,
        status,
        site_id,
        max(1, min(limit, 1000)),
        scope.site_ids(),
        kind=kind or None,
        severity=severity or None,
    )


async def get_alert(session: AsyncSession, alert_id: int, scope: Scope) -> tuple[Alert, str | None]:
    """One alert of the caller's sites; NotFoundError otherwise."""
    await alert_in_scope(session, scope, alert_id)
    try:
        return await db_alerts.get_alert(session, alert_id)
    except NotFound as err:
        raise NotFoundError(str(err)) from err


async def acknowledge_alert(
    session: AsyncSession, alert_id: int, user: User, scope: Scope, note: str | None = None
) -> tuple[Alert, str | None]:
    """Acknowledge an alert as this user (a manager of its site; fleet-wide alerts: admins), with an optional note."""
    await alert_in_scope(session, scope, alert_id, manage=True)
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE:
        raise InvalidInput(f"the note may hold at most {MAX_NOTE} characters")
    try:
        return await db_alerts.acknowledge_alert(session, alert_id, user.email, note)
    except NotFound as err:
        raise NotFoundError(str(err)) from err


async def resolve_alert(
    session: AsyncSession, alert_id: int, user: User, scope: Scope
) -> tuple[Alert, str | None]:
    """Close an alert by hand as this user, a manager of its site (the engine opens a new one if it still holds)."""
    await alert_in_scope(session, scope, alert_id, manage=True)
    try:
        return await db_alerts.resolve_alert(session, alert_id, user.email)
    except NotFound as err:
        raise NotFoundError(str(err)) from err
