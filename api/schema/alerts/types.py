"""Alert types: alerts, alert rules, the rules' outlook and the demo's mailbox."""

from datetime import datetime
from enum import Enum

import strawberry
import strawberry.experimental.pydantic

from api.alerts import service
from api.alerts.mailbox import StoredEmail
from api.alerts.rules import BUILDING, OPEN, PENDING, Outlook
from api.services.access import Scope
from api.services.alerts import AlertInfo
from db.central import models
from db.central.models import AlertRule as AlertRuleRow


@strawberry.enum
class AlertStatus(Enum):
    """Which alerts to list: open (acknowledged or not), only the unacknowledged or acknowledged open ones, resolved, all."""

    OPEN = "open"
    UNACKNOWLEDGED = "unacknowledged"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    ALL = "all"


@strawberry.experimental.pydantic.type(model=AlertInfo, all_fields=True)
class Alert:
    """One occurrence of an alert condition (the fields of api/services/alerts.py AlertInfo, ids as GraphQL IDs)."""

    id: strawberry.ID
    site_id: strawberry.ID | None
    meter_id: strawberry.ID | None


def _alert_from_model(cls, alert: models.Alert, site_name: str | None = None) -> Alert:
    """From an alerts row and its site's name."""
    fields = AlertInfo.of(alert, site_name).model_dump()
    for name in ("id", "site_id", "meter_id"):
        fields[name] = None if fields[name] is None else strawberry.ID(str(fields[name]))
    return cls(**fields)


# Strawberry's pydantic types drop class methods: from_model is set on the derived type.
Alert.from_model = classmethod(_alert_from_model)


@strawberry.experimental.pydantic.type(model=service.RuleInfo, all_fields=True)
class AlertRule:
    """A watched condition (the fields of api/alerts/service.py RuleInfo, ids as GraphQL IDs)."""

    id: strawberry.ID
    site_id: strawberry.ID | None


def _rule_from_model(cls, rule: AlertRuleRow, caller: Scope) -> AlertRule:
    """From an alert_rules row; recipients only for those who manage the rule's site."""
    return cls.from_pydantic(service.RuleInfo.of(rule, caller))


AlertRule.from_model = classmethod(_rule_from_model)


@strawberry.input
class AlertRuleInput:
    """Fields of a rule to set; omitted ones keep their value (or the kind's default on creation)."""

    enabled: bool | None = None
    threshold: float | None = None
    severity: str | None = None
    pending_seconds: float | None = None
    recipients: list[str] | None = None


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


@strawberry.type
class DemoEmail(StoredEmail):
    """One email the demo's mail sink received (the fields of api/alerts/mailbox.StoredEmail)."""

    @classmethod
    def of(cls, stored: StoredEmail) -> "DemoEmail":
        """From a stored email."""
        return cls(**vars(stored))


@strawberry.type
class DemoMailbox:
    """`enabled` is false outside the demo (no mail sink is kept; alerts go to a real SMTP server)."""

    enabled: bool
    emails: list[DemoEmail]
