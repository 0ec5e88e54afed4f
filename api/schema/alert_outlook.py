"""alertOutlook (what each rule means now, per site and meter) and alertRulePreview (the same for a draft rule)."""

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from api.alerts import service
from api.alerts.outlook import alert_outlook, draft_rule
from api.alerts.rules import BUILDING, OPEN, PENDING, Outlook, Rule
from api.alerts.runtime import engine_of
from api.errors import InvalidInput
from api.schema.alert_rules import AlertRuleInput
from api.schema.ids import to_int
from api.schema.permissions import IsAuthenticated, scope
from api.services.access import Scope
from db.central import alert_store as store


@strawberry.enum
class OutlookState(Enum):
    """An alert that is open; a condition holding for less than its pending time; one building up."""

    OPEN = OPEN
    PENDING = PENDING
    BUILDING = BUILDING


@strawberry.type
class AlertOutlook:
    """A rule's condition at one site or meter (or system-wide), and when its alert opens (or opened)."""

    rule_id: strawberry.ID | None
    kind: str
    severity: str
    site_id: strawberry.ID | None
    site_name: str | None
    meter_id: strawberry.ID | None
    meter_external_id: str | None
    message: str
    state: OutlookState
    alerts_at: datetime
    site_timezone: str | None = strawberry.field(
        default=None, description="the site's time zone (IANA name), to show alertsAt in it"
    )

    @classmethod
    def of(cls, entry: Outlook, names: dict[int, tuple[str, str]], meters: dict[int, str]) -> "AlertOutlook":
        """From the rule engine's outlook entry and the sites' (name, time zone)."""

        def ident(value):
            return None if value is None else strawberry.ID(str(value))

        return cls(
            rule_id=ident(entry.rule.id),
            kind=entry.rule.kind,
            severity=entry.rule.severity,
            site_id=ident(entry.site_id),
            site_name=names.get(entry.site_id, (None, None))[0],
            site_timezone=names.get(entry.site_id, (None, None))[1],
            meter_id=ident(entry.meter_id),
            meter_external_id=meters.get(entry.meter_id),
            message=entry.message,
            state=OutlookState(entry.state),
            alerts_at=entry.due,
        )


@strawberry.input
class AlertRuleDraft:
    """A rule as it would be saved: an existing rule's id, or a kind (and site) for a new one, and its fields."""

    rule_id: strawberry.ID | None = None
    kind: str | None = None
    site_id: strawberry.ID | None = None
    rule: AlertRuleInput | None = None


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
