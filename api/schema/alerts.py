"""Alerts: list by status and site, acknowledge."""

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
    ) -> list[Alert]:
        """Alerts, newest first."""
        async with info.context.session() as session:
            rows = await service.list_alerts(
                session, scope(info), status.value, to_int(site_id, "site id"), limit
            )
        return [Alert.from_model(alert, name) for alert, name in rows]


@strawberry.type
class AlertsMutation:
    """Changes to alerts."""

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    async def acknowledge_alert(self, info: Info, id: strawberry.ID) -> Alert:
        """Acknowledge an alert as the logged-in user (a manager of its site)."""
        async with info.context.session() as session:
            alert, name = await service.acknowledge_alert(
                session, to_int(id, "alert id"), info.context.user, scope(info)
            )
        return Alert.from_model(alert, name)
