"""Data access for alerts as dashboards see them: listing, acknowledging, resolving by hand (the engine raises them)."""

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.central.models import Alert, Site
from db.clock import utcnow
from db.errors import NotFound

# open: not resolved (acknowledged or not); unacknowledged / acknowledged: open ones split by acknowledgement.
STATUSES = ("open", "unacknowledged", "acknowledged", "resolved", "all")


async def list_alerts(
    session: AsyncSession,
    status: str = "open",
    site_id: int | None = None,
    limit: int = 100,
    site_ids: Collection[int] | None = None,
    *,
    kind: str | None = None,
    severity: str | None = None,
) -> list[tuple[Alert, str | None]]:
    """Alerts (newest first) with their site's name; site_ids limits them to those sites (no fleet-wide)."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}")
    query = select(Alert, Site.name).outerjoin(Site, Site.id == Alert.site_id)
    if status in ("open", "unacknowledged", "acknowledged"):
        query = query.where(Alert.resolved_at.is_(None))
    if status == "unacknowledged":
        query = query.where(Alert.acknowledged_at.is_(None))
    elif status == "acknowledged":
        query = query.where(Alert.acknowledged_at.is_not(None))
    elif status == "resolved":
        query = query.where(Alert.resolved_at.is_not(None))
    if site_id is not None:
        query = query.where(Alert.site_id == site_id)
    if site_ids is not None:
        query = query.where(Alert.site_id.in_(list(site_ids)))
    if kind is not None:
        query = query.where(Alert.kind == kind)
    if severity is not None:
        query = query.where(Alert.severity == severity)
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


async def acknowledge_alert(
    session: AsyncSession, alert_id: int, by: str, note: str | None = None
) -> tuple[Alert, str | None]:
    """Mark an alert acknowledged by someone (the first acknowledgement is kept; a later note replaces the note)."""
    alert, site_name = await get_alert(session, alert_id)
    if alert.acknowledged_at is None:
        alert.acknowledged_at = utcnow()
        alert.acknowledged_by = by
    if note:
        alert.acknowledged_note = note
    await session.flush()
    return alert, site_name


async def resolve_alert(session: AsyncSession, alert_id: int, by: str) -> tuple[Alert, str | None]:
    """Close an open alert by hand (a resolved one stays as it was)."""
    alert, site_name = await get_alert(session, alert_id)
    if alert.resolved_at is None:
        alert.resolved_at = utcnow()
        alert.resolved_by = by
        await session.flush()
    return alert, site_name
