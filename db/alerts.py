"""Data access for alerts as dashboards see them: listing and acknowledging (the engine raises them)."""

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.central_models import Alert, Site
from db.clock import utcnow
from db.errors import NotFound

STATUSES = ("open", "resolved", "all")


async def list_alerts(
    session: AsyncSession,
    status: str = "open",
    site_id: int | None = None,
    limit: int = 100,
    site_ids: Collection[int] | None = None,
) -> list[tuple[Alert, str | None]]:
    """Alerts (newest first) with their site's name; site_ids limits them to those sites (no fleet-wide)."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}")
    query = select(Alert, Site.name).outerjoin(Site, Site.id == Alert.site_id)
    if status == "open":
        query = query.where(Alert.resolved_at.is_(None))
    elif status == "resolved":
        query = query.where(Alert.resolved_at.is_not(None))
    if site_id is not None:
        query = query.where(Alert.site_id == site_id)
    if site_ids is not None:
        query = query.where(Alert.site_id.in_(list(site_ids)))
    rows = await session.execute(query.order_by(Alert.opened_at.desc(), Alert.id.desc()).limit(limit))
    return [(alert, name) for alert, name in rows]


async def get_alert(session: AsyncSession, alert_id: int) -> tuple[Alert, str | None]:
    """One alert with its site's name; NotFound otherwise."""
    row = (
        await session.execute(
            select(Alert, Site.name).outerjoin(Site, Site.id == Alert.site_id).where(Alert.id == alert_id)
        )
    ).first()
    if row is None:
        raise NotFound(f"no alert with id {alert_id}")
    return row[0], row[1]


async def acknowledge_alert(session: AsyncSession, alert_id: int, by: str) -> tuple[Alert, str | None]:
    """Mark an alert acknowledged by someone (the first acknowledgement is kept)."""
    alert, site_name = await get_alert(session, alert_id)
    if alert.acknowledged_at is None:
        alert.acknowledged_at = utcnow()
        alert.acknowledged_by = by
        await session.flush()
    return alert, site_name
