"""Rule conditions as pure functions: which alerts should be open, given sites, meters and the time."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from db.central.alert_store import (
    API_ERROR_RATE,
    CENTRAL_UNREACHABLE,
    DATABASE_UNREACHABLE,
    DEFAULT_RULES,
    EDGE_QUEUE,
    HEARTBEAT_MISSING,
    METER_UNREACHABLE,
)
from db.central.contact import last_heard
from db.central.site_status import EDGE_ALERTS, OUTAGE_ENDED, OUTAGE_IN_MAINTENANCE, OUTAGE_STARTED

Key = tuple[str, int | None, int | None]
# Whether a site is in a maintenance window at a moment (db/central/maintenance_windows.py); the default: never.
Quiet = Callable[[int, datetime], bool]


def never_quiet(site_id: int, at: datetime) -> bool:
    """No maintenance windows."""
    return False


@dataclass(frozen=True)
class Rule:
    """A rule as the engine keeps it (a plain copy, still usable while the database is down)."""

    id: int | None
    kind: str
    site_id: int | None
    enabled: bool
    threshold: float
    severity: str
    pending_seconds: float
    recipients: tuple[str, ...] = ()

    @classmethod
    def of(cls, row) -> "Rule":
        """Copy of an AlertRule row."""
        return cls(
            row.id,
            row.kind,
            row.site_id,
            row.enabled,
            float(row.threshold),
            row.severity,
            float(row.pending_seconds or 0),
            tuple(row.recipients or ()),
        )

    @classmethod
    def default(cls, kind: str) -> "Rule":
        """The seeded default of a kind (used before the rules could ever be read)."""
        d = DEFAULT_RULES[kind]
        return cls(None, kind, None, True, float(d.threshold), d.severity, float(d.pending_seconds))


@dataclass(frozen=True)
class Condition:
    """A rule's condition holding for one site, meter or the whole system."""

    rule: Rule
    site_id: int | None
    meter_id: int | None
    message: str

    @property
    def key(self) -> Key:
        """What identifies the alert: (kind, site, meter)."""
        return (self.rule.kind, self.site_id, self.meter_id)


@dataclass(frozen=True)
class PastOutage:
    """A completed outage a heartbeat reported, longer than its site's central_unreachable threshold."""

    rule: Rule
    site_id: int
    started_at: datetime
    ended_at: datetime
    message: str
    meter_external_id: str | None = None

    @property
    def key(self) -> tuple[int, str, str | None]:
        """Site, kind and meter: the engine remembers the last start recorded for each."""
        return (self.site_id, self.rule.kind, self.meter_external_id)


@dataclass
class RuleBook:
    """The rules in force: a site's own rule of a kind overrides the global one."""

    rules: list[Rule] = field(default_factory=list)

    def rule_for(self, kind: str, site_id: int | None = None) -> Rule | None:
        """The enabled rule of a kind for a site (or the global one), None when off or absent."""
        chosen = None
        for rule in self.rules:
            if rule.kind != kind:
                continue
            if site_id is not None and rule.site_id == site_id:
                chosen = rule
                break
            if rule.site_id is None and chosen is None:
                chosen = rule
        return chosen if chosen is not None and chosen.enabled else None

    def database_rule(self) -> Rule | None:
        """The database-unreachable rule (its default when none was ever read)."""
        if not any(r.kind == DATABASE_UNREACHABLE for r in self.rules):
            return Rule.default(DATABASE_UNREACHABLE)
        return self.rule_for(DATABASE_UNREACHABLE)


def duration(seconds: float) -> str:
    """A readable length of time: 45 s, 12 min, 3.5 h."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 120 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def watched(site, now: datetime | None = None, quiet: Quiet = never_quiet) -> bool:
    """Sites in maintenance (switched on, or in a window at `now`) or deactivated raise nothing."""
    if not site.is_active or site.maintenance:
        return False
    return now is None or not quiet(site.id, now)


def moment(ts: datetime, timezone: str | None = None) -> str:
    """A mark for alert texts in the site's time, its zone said: '2026-12-06 11:05 CET' (a date, so the text
    stays true while it is shown)."""
    local = ts.astimezone(ZoneInfo(timezone) if timezone else UTC)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def meter_since(meter) -> datetime | None:
    """Since when a meter has not been heard (its last good reading, else its creation)."""
    return meter.last_seen_at or meter.created_at


def evaluate(
    book: RuleBook,
    sites: Iterable,
    meters: Iterable,
    now: datetime,
    error_rate: float | None,
    quiet: Quiet = never_quiet,
) -> dict:
    """Conditions holding now, by key (database reachability is the engine's own check)."""
    found: list[Condition] = []
    by_id = {s.id: s for s in sites if watched(s, now, quiet)}
    for site in by_id.values():
        found.extend(_site_conditions(book, site, now))
    for meter, site, rule, since in _meter_rules(book, by_id, meters):
        if (now - since).total_seconds() > rule.threshold * 60:
            found.append(Condition(rule, site.id, meter.id, _meter_text(meter, site, since)))
    rule = book.rule_for(API_ERROR_RATE)
    if rule and error_rate is not None and error_rate > rule.threshold:
        text = f"API error rate {error_rate:.1f}% (threshold {rule.threshold:g}%)"
        found.append(Condition(rule, None, None, text))
    return {c.key: c for c in found}


def _meter_rules(book: RuleBook, watched_sites: dict, meters: Iterable) -> Iterable[tuple]:
    """(meter, site, rule, since) of each unreachable meter of a watched site whose rule is on."""
    for meter in meters:
        site, since = watched_sites.get(meter.site_id), meter_since(meter)
        rule = site and book.rule_for(METER_UNREACHABLE, site.id)
        if rule and since:
            yield meter, site, rule, since


def _meter_text(meter, site, since: datetime) -> str:
    why = f": {meter.last_error}" if meter.last_error else ""
    return (
        f"Meter {meter.external_id} at site {site.name} unreachable since {moment(since, site.timezone)}{why}"
    )


def _heartbeat_text(site, heard: datetime, rule: Rule) -> str:
    return f"Site {site.name}: not heard from since {moment(heard, site.timezone)} (threshold {rule.threshold:g} min)"


def _site_conditions(book: RuleBook, site, now: datetime) -> list[Condition]:
    found = []
    health = site.health or {}
    rule = book.rule_for(HEARTBEAT_MISSING, site.id)
    heard = last_heard(site)
    if rule and heard is not None:
        silent = (now - heard).total_seconds()
        if silent > rule.threshold * 60:
            found.append(Condition(rule, site.id, None, _heartbeat_text(site, heard, rule)))
    rule = book.rule_for(EDGE_QUEUE, site.id)
    depth = health.get("queue_depth") or 0
    if rule and depth > rule.threshold:
        text = f"Site {site.name}: edge queue holds {depth} readings (threshold {rule.threshold:g})"
        found.append(Condition(rule, site.id, None, text))
    rule = book.rule_for(CENTRAL_UNREACHABLE, site.id)
    cut_off = health.get("central_unreachable_seconds") or 0
    heard = last_heard(site)
    if rule and cut_off > rule.threshold * 60 and heard is not None:
        text = (
            f"Site {site.name}: the edge could not reach central since "
            f"{moment(heard - timedelta(seconds=cut_off), site.timezone)} (threshold {rule.threshold:g} min)"
        )
        found.append(Condition(rule, site.id, None, text))
    return found


def _moment(value: str | None) -> datetime | None:
    if not value:
        return None
    ts = datetime.fromisoformat(value)
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def span(started: datetime, ended: datetime, timezone: str) -> str:
    """'from 10:05 to 10:28 CET' in the site's time (with dates when it crosses midnight, and a zone name per
    end when the clocks changed between them: 'from 02:59 CEST to 02:00 CET' was 'from 02:59 to 02:00 CET')."""
    start, end = started.astimezone(ZoneInfo(timezone)), ended.astimezone(ZoneInfo(timezone))
    shape = "%H:%M" if start.date() == end.date() else "%Y-%m-%d %H:%M"
    if start.utcoffset() != end.utcoffset():
        return f"from {start.strftime(shape + ' %Z')} to {end.strftime(shape + ' %Z')}"
    return f"from {start.strftime(shape)} to {end.strftime(shape)} {end.strftime('%Z')}"


def past_outages(book: RuleBook, sites: Iterable, quiet: Quiet = never_quiet) -> list[PastOutage]:
    """Each watched site's ended edge alerts, and its last completed outage when longer than its rule allows.

    One that started inside a maintenance window of its site is not recorded."""
    found = []
    for site in sites:
        health = site.health or {}
        if watched(site):
            edge = _past_edge_alerts(book, site, health.get(EDGE_ALERTS) or [])
            found.extend(o for o in edge if not quiet(site.id, o.started_at))
        started, ended = _moment(health.get(OUTAGE_STARTED)), _moment(health.get(OUTAGE_ENDED))
        rule = watched(site) and book.rule_for(CENTRAL_UNREACHABLE, site.id)
        if not rule or started is None or ended is None or health.get(OUTAGE_IN_MAINTENANCE):
            continue
        if quiet(site.id, started):
            continue
        seconds = (ended - started).total_seconds()
        if seconds > rule.threshold * 60:
            text = (
                f"Site {site.name}: the edge could not reach central "
                f"{span(started, ended, site.timezone)} ({duration(seconds)})"
            )
            found.append(PastOutage(rule, site.id, started, ended, text))
    return found


def _past_edge_alerts(book: RuleBook, site, reported: list) -> list[PastOutage]:
    """The ended alerts the edge decided itself while central could not see them (edge_agent/edge_alerts.py)."""
    found = []
    for entry in reported:
        kind, meter = entry.get("kind"), entry.get("meter_external_id")
        started, ended = _moment(entry.get("started_at")), _moment(entry.get("ended_at"))
        rule = book.rule_for(kind, site.id) if kind in (METER_UNREACHABLE, EDGE_QUEUE) else None
        if not rule or started is None or ended is None or ended < started:
            continue
        seconds = (ended - started).total_seconds()
        when = f"{span(started, ended, site.timezone)} ({duration(seconds)}, reported by the edge)"
        if kind == METER_UNREACHABLE:
            if not meter or seconds <= rule.threshold * 60:
                continue
            text = f"Meter {meter} at site {site.name} was unreachable {when}"
        else:
            meter = None
            text = f"Site {site.name}: the edge queue was above its threshold {when}"
        found.append(PastOutage(rule, site.id, started, ended, text, meter))
    return found


OPEN, PENDING, BUILDING = "open", "pending", "building"
SILENT_SECONDS = 180.0  # a heartbeat this late (or two collection intervals) starts the heartbeat's countdown


@dataclass(frozen=True)
class Outlook:
    """What a rule means for one site or meter now: its alert is open, pending, or building up to `due`."""

    rule: Rule
    site_id: int | None
    meter_id: int | None
    message: str
    state: str
    due: datetime


def outlook(
    book: RuleBook,
    sites: Iterable,
    meters: Iterable,
    now: datetime,
    error_rate: float | None,
    *,
    quiet: Quiet = never_quiet,
    first_seen: dict[Key, datetime] | None = None,
    open_keys: Iterable[Key] = (),
) -> list[Outlook]:
    """Conditions holding now (open, or pending until `due`) and those that will hold unless they clear.

    `first_seen` is the engine's memory of when each condition began to hold (its pending timers); without
    it a pending condition is taken to have begun now. Building up: unreachable meters below their threshold
    and sites silent for longer than usual, due when their threshold (and pending time) will have passed.
    """
    sites, meters, seen, opened = list(sites), list(meters), first_seen or {}, set(open_keys)
    holding = evaluate(book, sites, meters, now, error_rate, quiet)
    found = []
    for key, cond in holding.items():
        state = OPEN if key in opened else PENDING
        due = seen.get(key, now) + timedelta(seconds=cond.rule.pending_seconds)
        found.append(Outlook(cond.rule, cond.site_id, cond.meter_id, cond.message, state, due))
    by_id = {s.id: s for s in sites if watched(s, now, quiet)}
    for meter, site, rule, since in _meter_rules(book, by_id, meters):
        if (METER_UNREACHABLE, site.id, meter.id) not in holding:
            due = since + timedelta(seconds=rule.threshold * 60 + rule.pending_seconds)
            found.append(Outlook(rule, site.id, meter.id, _meter_text(meter, site, since), BUILDING, due))
    for site in by_id.values():
        rule, heard = book.rule_for(HEARTBEAT_MISSING, site.id), last_heard(site)
        if not rule or heard is None or (HEARTBEAT_MISSING, site.id, None) in holding:
            continue
        if site.status == "offline" or (now - heard).total_seconds() > max(
            SILENT_SECONDS, 2 * _interval(site)
        ):
            due = heard + timedelta(seconds=rule.threshold * 60 + rule.pending_seconds)
            found.append(Outlook(rule, site.id, None, _heartbeat_text(site, heard, rule), BUILDING, due))
    return sorted(found, key=lambda o: o.due)


def _interval(site) -> float:
    return float(getattr(site, "collection_interval_seconds", None) or 60.0)
