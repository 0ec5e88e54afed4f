"""Alert rules for people (GraphQL) and models (MCP): list, create a site override, change one, delete one.

RuleInfo is the one definition of a rule as GraphQL (AlertRule) and MCP (configure_alert_rules) show it.
"""

import re
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import InvalidInput, NotFoundError
from api.services.access import Scope
from causes import Cause, text
from db.central import alert_store as store
from db.central.models import AlertRule, Site
from db.errors import NotFound

EMAIL = re.compile(r"^[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\"]+$")
MAX_RECIPIENTS = 20
MAX_PENDING_SECONDS = 86_400.0


def _check(
    threshold: float | None, severity: str | None, pending_seconds: float | None, recipients: list[str] | None
) -> list[str] | None:
    if threshold is not None and not (threshold >= 0 and threshold < 1e9):
        raise InvalidInput("threshold must be a number from 0")
    if severity is not None and severity not in store.SEVERITIES:
        raise InvalidInput(f"severity must be one of {', '.join(store.SEVERITIES)}")
    if pending_seconds is not None and not (0 <= pending_seconds <= MAX_PENDING_SECONDS):
        raise InvalidInput(f"pendingSeconds must be between 0 and {MAX_PENDING_SECONDS:.0f}")
    return None if recipients is None else check_recipients(recipients)


def check_recipients(recipients: list[str]) -> list[str]:
    """The addresses trimmed; InvalidInput for anything that is not one plain address (no header tricks)."""
    cleaned = [r.strip() for r in recipients if r.strip()]
    if len(cleaned) > MAX_RECIPIENTS:
        raise InvalidInput(f"at most {MAX_RECIPIENTS} recipients")
    bad = [r for r in cleaned if not EMAIL.match(r)]
    if bad:
        raise InvalidInput(f"not an email address: {bad[0]!r}")
    return cleaned


async def list_rules(session: AsyncSession, scope: Scope, site_id: int | None = None) -> list[AlertRule]:
    """Every rule of the caller's sites and the global ones (defaults seeded on first use), or the global
    ones plus one site's overrides."""
    if site_id is not None:
        scope.check_read(site_id)
    await store.seed_default_rules(session)
    return [
        r for r in await store.list_rules(session, site_id) if r.site_id is None or scope.reads(r.site_id)
    ]


def visible_recipients(scope: Scope, rule: AlertRule) -> list[str]:
    """A rule's recipients for those who manage its site (global rules: admins); else none (no e-mails leak)."""
    return list(rule.recipients or []) if scope.manages(rule.site_id) else []


class RuleInfo(BaseModel):
    """A watched condition; a rule with a siteId overrides the global rule of its kind for that site."""

    id: int
    kind: str
    site_id: int | None
    enabled: bool
    threshold: float
    threshold_unit: str
    description: str
    severity: str
    pending_seconds: float
    recipients: list[str]
    created_at: datetime

    @classmethod
    def of(cls, rule: AlertRule, caller: Scope) -> "RuleInfo":
        """From an alert_rules row; recipients only for those who manage the rule's site."""
        default = store.DEFAULT_RULES.get(rule.kind)
        return cls(
            id=rule.id,
            kind=rule.kind,
            site_id=rule.site_id,
            enabled=rule.enabled,
            threshold=rule.threshold,
            threshold_unit=default.unit if default else "",
            description=default.description if default else "",
            severity=rule.severity,
            pending_seconds=rule.pending_seconds,
            recipients=visible_recipients(caller, rule),
            created_at=rule.created_at,
        )


async def create_rule(
    session: AsyncSession,
    kind: str,
    site_id: int | None = None,
    *,
    scope: Scope,
    enabled: bool = True,
    threshold: float | None = None,
    severity: str | None = None,
    pending_seconds: float | None = None,
    recipients: list[str] | None = None,
) -> AlertRule:
    """A rule of a kind for one site (overriding the global rule) or a missing global rule."""
    if kind not in store.DEFAULT_RULES:
        raise InvalidInput(f"unknown rule kind {kind!r}; known: {', '.join(store.DEFAULT_RULES)}")
    scope.check_manage(site_id)
    recipients = _check(threshold, severity, pending_seconds, recipients)
    await store.seed_default_rules(session)
    if site_id is not None and await session.get(Site, site_id) is None:
        raise NotFoundError(text(Cause.UNKNOWN_SITE, site_id=site_id))
    if await store.find_rule(session, kind, site_id) is not None:
        where = f"site {site_id}" if site_id is not None else "all sites"
        raise InvalidInput(f"a {kind} rule for {where} exists already: update it instead")
    return await store.add_rule(
        session,
        kind,
        site_id,
        enabled=enabled,
        threshold=threshold,
        severity=severity,
        pending_seconds=pending_seconds,
        recipients=recipients,
    )


async def update_rule(
    session: AsyncSession,
    rule_id: int,
    *,
    scope: Scope,
    enabled: bool | None = None,
    threshold: float | None = None,
    severity: str | None = None,
    pending_seconds: float | None = None,
    recipients: list[str] | None = None,
) -> AlertRule:
    """Change the given fields of a rule (None leaves a field as it is; its site's managers, global: admins)."""
    rule = await session.get(AlertRule, rule_id)
    if rule is None or not (rule.site_id is None or scope.reads(rule.site_id)):
        raise NotFoundError(f"no alert rule with id {rule_id}")
    scope.check_manage(rule.site_id)
    recipients = _check(threshold, severity, pending_seconds, recipients)
    try:
        return await store.change_rule(
            session,
            rule_id,
            enabled=enabled,
            threshold=threshold,
            severity=severity,
            pending_seconds=pending_seconds,
            recipients=recipients,
        )
    except NotFound as err:
        raise NotFoundError(str(err)) from err


async def delete_rule(session: AsyncSession, rule_id: int, *, scope: Scope) -> AlertRule:
    """Remove a site's override (its managers; the global rule applies again); global rules can only be disabled."""
    try:
        rule = await store.get_rule(session, rule_id)
    except NotFound as err:
        raise NotFoundError(str(err)) from err
    if not (rule.site_id is None or scope.reads(rule.site_id)):
        raise NotFoundError(f"no alert rule with id {rule_id}")
    scope.check_manage(rule.site_id)
    if rule.site_id is None:
        raise InvalidInput("a global rule cannot be deleted: disable it instead")
    await session.delete(rule)
    await session.flush()
    return rule


def check_rule_fields(
    threshold: float | None, severity: str | None, pending_seconds: float | None, recipients: list[str] | None
) -> list[str] | None:
    """The same checks as a save (for previews): InvalidInput for a bad value; the cleaned recipients."""
    return _check(threshold, severity, pending_seconds, recipients)
