"""Alerts for dashboards and MCP: list, get, acknowledge (with a note), resolve by hand.

AlertInfo is the one definition of an alert as GraphQL (Alert) and MCP (list_alerts) show it.
"""

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import InvalidInput, NotFoundError
from api.services.access import Scope, alert_in_scope
from db.central import alerts as db_alerts
from db.central.models import Alert, User
from db.errors import NotFound

MAX_NOTE = 1000


class AlertInfo(BaseModel):
    """An alert row."""

    id: int
    site_id: int | None
    site_name: str | None
    meter_id: int | None
    kind: str
    severity: str
    message: str
    opened_at: datetime
    resolved_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    acknowledged_note: str | None = None
    resolved_by: str | None = Field(default=None, description="who closed it by hand (null: it cleared)")

    @classmethod
    def of(cls, alert: Alert, site_name: str | None = None) -> "AlertInfo":
        """From an alerts row and its site's name."""
        return cls.model_validate({**alert.model_dump(include=set(cls.model_fields)), "site_name": site_name})


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
