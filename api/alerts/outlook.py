"""What the rules mean now, computed by the engine's own rule code: open, pending and coming alerts."""

from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from api.alerts.engine import AlertEngine, quiet_sites_of
from api.alerts.rules import Outlook, Rule, RuleBook, outlook
from api.alerts.service import list_rules
from api.services.access import ADMIN, Scope
from db.central import alert_store as store
from db.clock import utcnow


async def alert_outlook(
    session: AsyncSession,
    engine: AlertEngine | None,
    scope: Scope,
    site_id: int | None = None,
    draft: Rule | None = None,
) -> tuple[list[Outlook], dict[int, tuple[str, str]], dict[int, str]]:
    """The outlook of every rule on the caller's sites (one site's, when given), with site (name, time zone)
    and meter ids.

    Every rule takes part (a global rule applies to the caller's sites too); only entries of the scope are kept.

    With a `draft`, the rules are taken as they would be with the draft saved (replacing the rule of its id,
    or of its kind and site) and only the draft's entries are returned: a preview before saving.
    """
    rules = [Rule.of(r) for r in await list_rules(session, ADMIN)]
    if draft is not None:
        rules = [r for r in rules if not _replaced_by(r, draft)] + [draft]
    sites = await store.watched_sites(session)
    meters = await store.unreachable_meters(session)
    open_keys = [(a.kind, a.site_id, a.meter_id) for a in await store.open_alerts(session)]
    found = outlook(
        RuleBook(rules),
        sites,
        meters,
        utcnow(),
        engine.last_error_rate if engine else None,
        quiet=await quiet_sites_of(session),
        first_seen=engine.pending_since() if engine else None,
        open_keys=open_keys,
    )
    if draft is not None:
        found = [o for o in found if o.rule == draft]
    if site_id is not None:
        scope.check_read(site_id)
        found = [o for o in found if o.site_id == site_id]
    found = [o for o in found if scope.reads(o.site_id)]
    names = {s.id: (s.name, s.timezone) for s in sites}
    externals = {m.id: m.external_id for m in meters}
    return found, names, externals


def _replaced_by(rule: Rule, draft: Rule) -> bool:
    if draft.id is not None:
        return rule.id == draft.id
    return rule.kind == draft.kind and rule.site_id == draft.site_id


def draft_rule(base: Rule | None, kind: str, site_id: int | None, **fields) -> Rule:
    """A rule as it would be saved: the base rule (or the kind's default) with the given fields set."""
    rule = base or replace(Rule.default(kind), site_id=site_id)
    values = {k: v for k, v in fields.items() if v is not None}
    if "recipients" in values:
        values["recipients"] = tuple(values["recipients"])
    return replace(rule, **values)
