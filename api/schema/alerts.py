"""Alerts: list by status, site, kind and severity; acknowledge with a note; resolve by hand."""

import strawberry
from strawberry.types import Info

from api.schema.ids import to_int
from api.schema.permissions import IsAuthenticated, scope
from api.schema.types import Alert, AlertStatus
from api.services import alerts as service


@strawberry.type
class AlertsQuery:
    """Queries about alerts."""

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def alerts(
        self,
        info: Info,
        status: AlertStatus = AlertStatus.OPEN,
        site_id: strawberry.ID | None = None,
        limit: int = 100,
        kind: str | None = None,
        severity: str | None = None,
    ) -> list[Alert]:
        """Alerts, newest first."""
        async with info.context.session() as session:
            rows = await service.list_alerts(
                session,
                scope(info),
                status.value,
                to_int(site_id, "site id"),
                limit,
                kind=kind,
                severity=severity,
            )
        return [Alert.from_model(alert, name) for alert, name in rows]


@strawberry.type
class AlertsMutation:
    """Changes to alerts."""

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    async def acknowledge_alert(self, info: Info, id: strawberry.ID, note: str | None = None) -> Alert:
        """Acknowledge an alert as the logged-in user (a manager of its site), with an optional note."""
        async with info.context.session() as session:
            alert, name = await service.acknowledge_alert(
                session, to_int(id, "alert id"), info.context.user, scope(info), note
            )
        return Alert.from_model(alert, name)

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    async def resolve_alert(self, info: Info, id: strawberry.ID) -> Alert:
        """Close an alert by hand (a manager of its site); if its condition still holds, the engine opens a new one."""
        async with info.context.session() as session:
            alert, name = await service.resolve_alert(
                session, to_int(id, "alert id"), info.context.user, scope(info)
            )
        event = {"event": "resolved", "alert_id": alert.id, "site_id": alert.site_id}
        await info.context.pubsub.publish("alerts", event)
        return Alert.from_model(alert, name)
