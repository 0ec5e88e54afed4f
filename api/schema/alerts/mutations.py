"""Alert mutations: acknowledge and resolve alerts; create, update and delete rules."""

import strawberry
from strawberry.types import Info

from api.alerts import service
from api.schema.alerts.types import Alert, AlertRule, AlertRuleInput
from api.schema.ids import to_int
from api.schema.permissions import IsAuthenticated, scope
from api.services import alerts as alerts_service


@strawberry.type
class AlertsMutation:
    """Changes to alerts."""

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    async def acknowledge_alert(self, info: Info, id: strawberry.ID, note: str | None = None) -> Alert:
        """Acknowledge an alert as the logged-in user (a manager of its site), with an optional note."""
        async with info.context.session() as session:
            alert, name = await alerts_service.acknowledge_alert(
                session, to_int(id, "alert id"), info.context.user, scope(info), note
            )
        return Alert.from_model(alert, name)

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    async def resolve_alert(self, info: Info, id: strawberry.ID) -> Alert:
        """Close an alert by hand (a manager of its site); if its condition still holds, the engine opens a new one."""
        async with info.context.session() as session:
            alert, name = await alerts_service.resolve_alert(
                session, to_int(id, "alert id"), info.context.user, scope(info)
            )
        event = {"event": "resolved", "alert_id": alert.id, "site_id": alert.site_id}
        await info.context.pubsub.publish("alerts", event)
        return Alert.from_model(alert, name)


def _fields(rule: AlertRuleInput | None) -> dict:
    if rule is None:
        return {}
    return {
        k: getattr(rule, k) for k in ("enabled", "threshold", "severity", "pending_seconds", "recipients")
    }


@strawberry.type
class AlertRulesMutation:
    """Changes to alert rules (global: admins; a site's: its managers)."""

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    async def create_alert_rule(
        self, info: Info, kind: str, site_id: strawberry.ID | None = None, rule: AlertRuleInput | None = None
    ) -> AlertRule:
        """Add a rule of a kind for one site (overriding the global one)."""
        fields = {k: v for k, v in _fields(rule).items() if v is not None}
        async with info.context.session() as session:
            row = await service.create_rule(
                session, kind, to_int(site_id, "site id"), scope=scope(info), **fields
            )
        return AlertRule.from_model(row, scope(info))

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    async def update_alert_rule(self, info: Info, id: strawberry.ID, rule: AlertRuleInput) -> AlertRule:
        """Change a rule: enabled, threshold, severity, pending time, recipients (site rules: its managers)."""
        async with info.context.session() as session:
            row = await service.update_rule(
                session, to_int(id, "rule id"), scope=scope(info), **_fields(rule)
            )
        return AlertRule.from_model(row, scope(info))

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    async def delete_alert_rule(self, info: Info, id: strawberry.ID) -> strawberry.ID:
        """Delete a site's override (its managers; the global rule applies to that site again); returns its id."""
        async with info.context.session() as session:
            row = await service.delete_rule(session, to_int(id, "rule id"), scope=scope(info))
        return strawberry.ID(str(row.id))
