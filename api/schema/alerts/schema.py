"""Alert queries: alerts, alertRules, alertOutlook, alertRulePreview and demoEmails."""

import strawberry
from strawberry.types import Info

from api.alerts import service
from api.alerts.mailbox import stored_emails
from api.alerts.outlook import alert_outlook, draft_rule
from api.alerts.rules import Rule
from api.alerts.runtime import engine_of
from api.alerts.settings import get_alert_settings
from api.errors import InvalidInput
from api.schema.alerts.types import (
    Alert,
    AlertOutlook,
    AlertRule,
    AlertRuleDraft,
    AlertStatus,
    DemoEmail,
    DemoMailbox,
)
from api.schema.ids import to_int
from api.schema.permissions import IsAdmin, IsAuthenticated, scope
from api.services import alerts as alerts_service
from api.services.access import Scope
from db.central import alert_store as store


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
            rows = await alerts_service.list_alerts(
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
class AlertRulesQuery:
    """Queries about alert rules."""

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def alert_rules(self, info: Info, site_id: strawberry.ID | None = None) -> list[AlertRule]:
        """Every rule, or the global rules and one site's overrides."""
        async with info.context.session() as session:
            rows = await service.list_rules(session, scope(info), to_int(site_id, "site id"))
        return [AlertRule.from_model(r, scope(info)) for r in rows]


async def _draft(session, draft: AlertRuleDraft, caller: Scope) -> Rule:
    fields = {}
    if draft.rule is not None:
        fields = {k: getattr(draft.rule, k) for k in ("enabled", "threshold", "severity", "pending_seconds")}
        fields["recipients"] = service.check_rule_fields(
            draft.rule.threshold, draft.rule.severity, draft.rule.pending_seconds, draft.rule.recipients
        )
    if draft.rule_id is not None:
        rules = {r.id: r for r in await service.list_rules(session, caller)}
        row = rules.get(to_int(draft.rule_id, "rule id"))
        if row is None:
            raise InvalidInput(f"no alert rule with id {draft.rule_id}")
        return draft_rule(Rule.of(row), row.kind, row.site_id, **fields)
    if draft.kind not in store.DEFAULT_RULES:
        raise InvalidInput(f"unknown rule kind {draft.kind!r}; known: {', '.join(store.DEFAULT_RULES)}")
    site_id = to_int(draft.site_id, "site id")
    if site_id is not None:
        caller.check_read(site_id)
    return draft_rule(None, draft.kind, site_id, **fields)


@strawberry.type
class AlertOutlookQuery:
    """What the alert rules mean now, computed by the alert engine's rule code."""

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def alert_outlook(self, info: Info, site_id: strawberry.ID | None = None) -> list[AlertOutlook]:
        """Open, pending and coming alerts (soonest first), of every site or one."""
        async with info.context.session() as session:
            found, names, meters = await alert_outlook(
                session, engine_of(info.context.request), scope(info), to_int(site_id, "site id")
            )
        return [AlertOutlook.of(o, names, meters) for o in found]

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def alert_rule_preview(self, info: Info, draft: AlertRuleDraft) -> list[AlertOutlook]:
        """Where a rule would fire (open/pending) or is building up now, were it saved as drafted."""
        async with info.context.session() as session:
            rule = await _draft(session, draft, scope(info))
            found, names, meters = await alert_outlook(
                session, engine_of(info.context.request), scope(info), draft=rule
            )
        return [AlertOutlook.of(o, names, meters) for o in found]


@strawberry.type
class DemoMailQuery:
    """The demo's sent emails."""

    @strawberry.field(permission_classes=[IsAdmin])
    def demo_emails(self, info: Info, limit: int = 100) -> DemoMailbox:
        """The newest emails the demo sent (ALERT_DEMO_MAIL_DIR), newest first."""
        folder = get_alert_settings().demo_mail_dir
        if not folder:
            return DemoMailbox(enabled=False, emails=[])
        return DemoMailbox(enabled=True, emails=[DemoEmail.of(e) for e in stored_emails(folder, limit)])
