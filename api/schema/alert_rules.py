"""Alert rules in GraphQL: alertRules of the caller's sites; create, update and delete them for their managers."""

from datetime import datetime

import strawberry
from strawberry.types import Info

from api.alerts import service
from api.schema.ids import to_int
from api.schema.permissions import IsAuthenticated, scope
from api.services.access import Scope
from db.central.alert_store import DEFAULT_RULES
from db.central.models import AlertRule as AlertRuleRow


@strawberry.type
class AlertRule:
    """A watched condition; a rule with a siteId overrides the global rule of its kind for that site."""

    id: strawberry.ID
    kind: str
    site_id: strawberry.ID | None
    enabled: bool
    threshold: float
    threshold_unit: str
    description: str
    severity: str
    pending_seconds: float
    recipients: list[str]
    created_at: datetime

    @classmethod
    def from_model(cls, rule: AlertRuleRow, caller: Scope) -> "AlertRule":
        """From an alert_rules row; recipients only for those who manage the rule's site."""
        default = DEFAULT_RULES.get(rule.kind)
        return cls(
            id=strawberry.ID(str(rule.id)),
            kind=rule.kind,
            site_id=strawberry.ID(str(rule.site_id)) if rule.site_id is not None else None,
            enabled=rule.enabled,
            threshold=rule.threshold,
            threshold_unit=default.unit if default else "",
            description=default.description if default else "",
            severity=rule.severity,
            pending_seconds=rule.pending_seconds,
            recipients=service.visible_recipients(caller, rule),
            created_at=rule.created_at,
        )


@strawberry.input
class AlertRuleInput:
    """Fields of a rule to set; omitted ones keep their value (or the kind's default on creation)."""

    enabled: bool | None = None
    threshold: float | None = None
    severity: str | None = None
    pending_seconds: float | None = None
    recipients: list[str] | None = None


def _fields(rule: AlertRuleInput | None) -> dict:
    if rule is None:
        return {}
    return {
        k: getattr(rule, k) for k in ("enabled", "threshold", "severity", "pending_seconds", "recipients")
    }


@strawberry.type
class AlertRulesQuery:
    """Queries about alert rules."""

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def alert_rules(self, info: Info, site_id: strawberry.ID | None = None) -> list[AlertRule]:
        """Every rule, or the global rules and one site's overrides."""
        async with info.context.session() as session:
            rows = await service.list_rules(session, scope(info), to_int(site_id, "site id"))
        return [AlertRule.from_model(r, scope(info)) for r in rows]


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
