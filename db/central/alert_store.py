"""Data access of the alert engine: rules (with their seeded defaults), open/resolved alerts, what it watches."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.central.models import Alert, AlertRule, Meter, Site
from db.errors import NotFound

HEARTBEAT_MISSING = "heartbeat_missing"
METER_UNREACHABLE = "meter_unreachable"
EDGE_QUEUE = "edge_queue"
CENTRAL_UNREACHABLE = "central_unreachable"
API_ERROR_RATE = "api_error_rate"
DATABASE_UNREACHABLE = "database_unreachable"
SEVERITIES = ("info", "warning", "critical")


@dataclass(frozen=True)
class RuleDefault:
    """The seeded default of one rule kind and what its threshold means."""

    kind: str
    threshold: float
    unit: str
    severity: str
    pending_seconds: float
    description: str


# The thresholds of the original design's monitoring section; pending times only where a value can bounce.
DEFAULT_RULES: dict[str, RuleDefault] = {
    d.kind: d
    for d in (
        RuleDefault(
            HEARTBEAT_MISSING, 10, "minutes", "critical", 0, "site heartbeat missing for more than N minutes"
        ),
        RuleDefault(
            METER_UNREACHABLE, 5, "minutes", "warning", 0, "meter unreachable for more than N minutes"
        ),
        RuleDefault(EDGE_QUEUE, 10_000, "readings", "warning", 120, "edge queue holds more than N readings"),
        RuleDefault(
            CENTRAL_UNREACHABLE,
            15,
            "minutes",
            "warning",
            0,
            "edge could not reach central for more than N minutes",
        ),
        RuleDefault(API_ERROR_RATE, 5, "percent", "critical", 120, "API error rate above N% over 5 minutes"),
        RuleDefault(
            DATABASE_UNREACHABLE, 1, "minutes", "critical", 0, "central database unreachable for N minutes"
        ),
    )
}
RULE_FIELDS = ("enabled", "threshold", "severity", "pending_seconds", "recipients")


async def seed_default_rules(session: AsyncSession) -> list[AlertRule]:
    """Insert the global rule of every kind that has none yet; return the rules added."""
    have = set(await session.scalars(select(AlertRule.kind).where(AlertRule.site_id.is_(None))))
    added = [
        AlertRule(
            kind=d.kind,
            threshold=d.threshold,
            severity=d.severity,
            pending_seconds=d.pending_seconds,
            recipients=[],
        )
        for d in DEFAULT_RULES.values()
        if d.kind not in have
    ]
    session.add_all(added)
    await session.flush()
    return added


async def list_rules(session: AsyncSession, site_id: int | None = None) -> list[AlertRule]:
    """All rules (global first), or the global ones plus one site's overrides."""
    query = select(AlertRule)
    if site_id is not None:
        query = query.where((AlertRule.site_id.is_(None)) | (AlertRule.site_id == site_id))
    return list(
        await session.scalars(query.order_by(AlertRule.site_id.nulls_first(), AlertRule.kind, AlertRule.id))
    )


async def get_rule(session: AsyncSession, rule_id: int) -> AlertRule:
    """One rule; NotFound otherwise."""
    rule = await session.get(AlertRule, rule_id)
    if rule is None:
        raise NotFound(f"no alert rule with id {rule_id}")
    return rule


async def find_rule(session: AsyncSession, kind: str, site_id: int | None) -> AlertRule | None:
    """The rule of a kind for a site (None: the global one), if it exists."""
    cond = AlertRule.site_id.is_(None) if site_id is None else AlertRule.site_id == site_id
    return await session.scalar(select(AlertRule).where(AlertRule.kind == kind, cond).limit(1))


async def add_rule(session: AsyncSession, kind: str, site_id: int | None, **fields) -> AlertRule:
    """Insert a rule (validated by the caller)."""
    default = DEFAULT_RULES[kind]
    values = {"threshold": default.threshold, "severity": default.severity}
    values.update({"pending_seconds": default.pending_seconds, "recipients": []})
    values.update({k: v for k, v in fields.items() if k in RULE_FIELDS and v is not None})
    rule = AlertRule(kind=kind, site_id=site_id, **values)
    session.add(rule)
    await session.flush()
    return rule


async def change_rule(session: AsyncSession, rule_id: int, **fields) -> AlertRule:
    """Set the given (non-None) fields of a rule."""
    rule = await get_rule(session, rule_id)
    for name, value in fields.items():
        if name in RULE_FIELDS and value is not None:
            setattr(rule, name, list(value) if name == "recipients" else value)
    await session.flush()
    return rule


async def watched_sites(session: AsyncSession) -> list[Site]:
    """Every site (the engine skips inactive and maintenance ones itself)."""
    return list(await session.scalars(select(Site).order_by(Site.id)))


async def unreachable_meters(session: AsyncSession) -> list[Meter]:
    """Enabled meters whose last heartbeat said they were unreachable."""
    query = select(Meter).where(Meter.reachable.is_(False), Meter.enabled.is_(True))
    return list(await session.scalars(query.order_by(Meter.id)))


async def open_alerts(session: AsyncSession) -> list[Alert]:
    """Alerts not resolved yet, oldest first."""
    return list(await session.scalars(select(Alert).where(Alert.resolved_at.is_(None)).order_by(Alert.id)))


async def insert_alert(session: AsyncSession, **fields) -> Alert:
    """Store a newly opened alert."""
    alert = Alert(**fields)
    session.add(alert)
    await session.flush()
    return alert


async def resolve_alert(session: AsyncSession, alert_id: int, at: datetime) -> Alert | None:
    """Mark an alert resolved at `at`; None when it was already resolved (by another worker)."""
    alert = await session.get(Alert, alert_id, with_for_update=session.bind.dialect.name == "postgresql")
    if alert is None or alert.resolved_at is not None:
        return None
    alert.resolved_at = at
    await session.flush()
    return alert


async def site_names(session: AsyncSession, site_ids: list[int]) -> dict[int, str]:
    """Names of the given sites."""
    if not site_ids:
        return {}
    return dict((await session.execute(select(Site.id, Site.name).where(Site.id.in_(site_ids)))).all())


async def lock_alerts(session: AsyncSession) -> None:
    """Serialise alert opening across API workers for this transaction (PostgreSQL; SQLite has one writer)."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('meterit_alerts'))"))


async def find_open_alert(
    session: AsyncSession, kind: str, site_id: int | None, meter_id: int | None
) -> Alert | None:
    """The open alert of a (kind, site, meter), if any."""
    query = select(Alert).where(Alert.kind == kind, Alert.resolved_at.is_(None))
    query = query.where(Alert.site_id.is_(None) if site_id is None else Alert.site_id == site_id)
    query = query.where(Alert.meter_id.is_(None) if meter_id is None else Alert.meter_id == meter_id)
    return await session.scalar(query.limit(1))


async def find_alert_between(
    session: AsyncSession,
    kind: str,
    site_id: int,
    start: datetime,
    end: datetime,
    meter_id: int | None = None,
) -> Alert | None:
    """An alert of a kind at a site (and meter, when given) opened between two times (inclusive), resolved or not."""
    query = select(Alert).where(Alert.kind == kind, Alert.site_id == site_id)
    if meter_id is not None:
        query = query.where(Alert.meter_id == meter_id)
    return await session.scalar(query.where(Alert.opened_at.between(start, end)).limit(1))


async def meter_id_of(session: AsyncSession, site_id: int, external_id: str) -> int | None:
    """The id of a site's meter by its external id, None when central does not know it."""
    query = select(Meter.id).where(Meter.site_id == site_id, Meter.external_id == external_id)
    return await session.scalar(query)


async def open_alert_counts(session: AsyncSession) -> dict[int | None, int]:
    """Open alerts per site id (None: system-wide alerts)."""
    query = select(Alert.site_id, func.count()).where(Alert.resolved_at.is_(None)).group_by(Alert.site_id)
    return dict((await session.execute(query)).all())
