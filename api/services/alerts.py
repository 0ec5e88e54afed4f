"""Alerts for dashboards and MCP: list, get, acknowledge."""

from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import NotFoundError
from db import alerts as db_alerts
from db.central_models import Alert, User
from db.errors import NotFound


async def list_alerts(
    session: AsyncSession, status: str = "open", site_id: int | None = None, limit: int = 100
) -> list[tuple[Alert, str | None]]:
    """Alerts with their site names, newest first (limit capped at 1000)."""
    return await db_alerts.list_alerts(session, status, site_id, max(1, min(limit, 1000)))


async def get_alert(session: AsyncSession, alert_id: int) -> tuple[Alert, str | None]:
    """One alert; NotFoundError otherwise."""
    try:
        return await db_alerts.get_alert(session, alert_id)
    except NotFound as err:
        raise NotFoundError(str(err)) from err


async def acknowledge_alert(session: AsyncSession, alert_id: int, user: User) -> tuple[Alert, str | None]:
    """Acknowledge an alert as this user."""
    try:
        return await db_alerts.acknowledge_alert(session, alert_id, user.email)
    except NotFound as err:
        raise NotFoundError(str(err)) from err
