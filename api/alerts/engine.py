"""The alert engine: checks the rules on a timer, opens and resolves alert rows, emails and publishes them.

Each alert opens once and resolves once (the row is the memory; opening takes an advisory lock so several
API workers never open the same alert twice). A condition must hold for the rule's pending time before it
opens, and be clear for as long before it resolves: a flapping value sends nothing. Sites in maintenance
raise nothing and their open alerts stay as they are; so do sites inside one of their maintenance windows
(db/central/maintenance_windows.py). Time is the process clock (db/clock.py), which tests set.
"""

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.alerts.messages import OPENED, REPORTED, RESOLVED, alert_email
from api.alerts.notifier import EmailNotifier
from api.alerts.rules import Condition, Key, PastOutage, Quiet, Rule, RuleBook, evaluate, past_outages
from api.alerts.settings import AlertSettings
from db.central import alert_store as store
from db.central import maintenance_windows as windows
from db.central.models import Alert
from db.clock import utcnow
from db.engine import session_scope

logger = logging.getLogger(__name__)
Publish = Callable[[str, dict], Awaitable[None]]
LIVE_ALERT_GRACE = timedelta(minutes=2)


def http_error_counts() -> tuple[float, float]:
    """(5xx answers, all answers) of this process since start, from the API's Prometheus counter."""
    from api.metrics import REQUESTS

    errors = total = 0.0
    for metric in REQUESTS.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total"):
                total += sample.value
                errors += sample.value if str(sample.labels.get("status", "")).startswith("5") else 0
    return errors, total


async def quiet_sites_of(session: AsyncSession) -> Quiet:
    """Whether a site is inside one of its maintenance windows at a moment (one read of every window)."""
    by_site: dict[int, list] = {}
    for window in await windows.list_windows(session):
        by_site.setdefault(window.site_id, []).append(window)
    zones = await windows.site_timezones(session) if by_site else {}

    def quiet(site_id: int, at: datetime) -> bool:
        zone = zones.get(site_id, "UTC")
        return any(windows.occurrence_at(w, zone, at) for w in by_site.get(site_id, ()))

    return quiet


class AlertEngine:
    """Evaluates rules every `interval_seconds`; `tick()` runs one evaluation (tests call it directly)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        notifier: EmailNotifier,
        settings: AlertSettings,
        *,
        sender: str,
        publish: Publish | None = None,
        error_counts: Callable[[], tuple[float, float]] = http_error_counts,
    ) -> None:
        self._sessions = sessions
        self._notifier = notifier
        self._settings = settings
        self._sender = sender
        self._publish = publish
        self._error_counts = error_counts
        self._book = RuleBook()
        self._seeded = False
        self._first_seen: dict[Key, datetime] = {}
        self._clear_since: dict[Key, datetime] = {}
        self._samples: deque[tuple[datetime, float, float]] = deque()
        self._db_down_since: datetime | None = None
        self._db_alert: Alert | None = None
        self._db_error = ""
        self._outages_known: dict[tuple[int, str, str | None], datetime] = {}
        self.last_error_rate: float | None = None

    @property
    def book(self) -> RuleBook:
        """The rules of the last evaluation."""
        return self._book

    def pending_since(self) -> dict[Key, datetime]:
        """When each condition still in its pending time began to hold (a copy of the engine's timers)."""
        return dict(self._first_seen)

    async def tick(self) -> None:
        """One evaluation of every rule; never raises for a database or mail outage."""
        now = utcnow()
        try:
            async with session_scope(self._sessions) as session:
                if not self._seeded:
                    await store.seed_default_rules(session)
                    self._seeded = True
                rules = [Rule.of(r) for r in await store.list_rules(session)]
                sites = await store.watched_sites(session)
                meters = await store.unreachable_meters(session)
                open_rows = await store.open_alerts(session)
                quiet = await quiet_sites_of(session)
        except Exception as err:  # any driver error here means the database cannot be used right now
            await self._database_down(now, err)
            return
        await self._database_up(now)
        self._book = RuleBook(rules)
        self.last_error_rate = self._error_rate(now)
        conditions = evaluate(self._book, sites, meters, now, self.last_error_rate, quiet)
        open_by_key = {
            (a.kind, a.site_id, a.meter_id): a for a in open_rows if a.kind != store.DATABASE_UNREACHABLE
        }
        await self._open_new(conditions, open_by_key, now)
        await self._resolve_cleared(conditions, open_by_key, {s.id: s for s in sites}, now, quiet)
        for outage in past_outages(self._book, sites, quiet):
            if self._outages_known.get(outage.key) != outage.started_at:
                await self._record_outage(outage)

    async def _open_new(self, conditions: dict[Key, Condition], open_by_key: dict, now: datetime) -> None:
        for key in [k for k in self._first_seen if k not in conditions]:
            del self._first_seen[key]
        for key, cond in conditions.items():
            self._clear_since.pop(key, None)
            if key in open_by_key:
                continue
            first = self._first_seen.setdefault(key, now)
            if (now - first).total_seconds() >= cond.rule.pending_seconds:
                del self._first_seen[key]
                await self._open(cond, now)

    async def _resolve_cleared(
        self, conditions: dict, open_by_key: dict, sites: dict, now: datetime, quiet: Quiet
    ) -> None:
        for key in [k for k in self._clear_since if k not in open_by_key]:
            del self._clear_since[key]
        for key, alert in open_by_key.items():
            if key in conditions:
                continue
            site = sites.get(alert.site_id)
            if site is not None and site.is_active and (site.maintenance or quiet(site.id, now)):
                continue
            rule = self._book.rule_for(alert.kind, alert.site_id)
            since = self._clear_since.setdefault(key, now)
            if (now - since).total_seconds() >= (rule.pending_seconds if rule else 0):
                del self._clear_since[key]
                await self._resolve(alert, rule, now)

    async def _open(self, cond: Condition, now: datetime) -> None:
        async with session_scope(self._sessions) as session:
            await store.lock_alerts(session)
            if await store.find_open_alert(session, *cond.key):
                return
            alert = await store.insert_alert(
                session,
                rule_id=cond.rule.id,
                site_id=cond.site_id,
                meter_id=cond.meter_id,
                kind=cond.rule.kind,
                severity=cond.rule.severity,
                message=cond.message[:1000],
                opened_at=now,
            )
            names = await store.site_names(session, [cond.site_id] if cond.site_id else [])
        logger.warning("alert %d opened: %s", alert.id, alert.message)
        await self._announce(OPENED, alert, names.get(cond.site_id), cond.rule)

    async def _record_outage(self, outage: PastOutage) -> None:
        """Record an outage the edge reported after it ended, once per site and start (whichever worker is first)."""
        rule = outage.rule
        async with session_scope(self._sessions) as session:
            await store.lock_alerts(session)
            # A live alert opened while heartbeats still passed during this outage already covers it; the
            # grace allows for the engine's tick opening it just after the end, and for clock skew.
            end = outage.ended_at + LIVE_ALERT_GRACE
            meter_id = None
            if outage.meter_external_id is not None:
                meter_id = await store.meter_id_of(session, outage.site_id, outage.meter_external_id)
            if await store.find_alert_between(
                session, rule.kind, outage.site_id, outage.started_at, end, meter_id
            ):
                alert = None
            else:
                alert = await store.insert_alert(
                    session,
                    rule_id=rule.id,
                    site_id=outage.site_id,
                    meter_id=meter_id,
                    kind=rule.kind,
                    severity=rule.severity,
                    message=outage.message[:1000],
                    opened_at=outage.started_at,
                    resolved_at=outage.ended_at,
                )
                names = await store.site_names(session, [outage.site_id])
        self._outages_known[outage.key] = outage.started_at
        if alert is not None:
            logger.warning("alert %d recorded after the fact: %s", alert.id, alert.message)
            await self._announce(REPORTED, alert, names.get(outage.site_id), rule)

    async def _resolve(self, alert: Alert, rule: Rule | None, now: datetime) -> None:
        async with session_scope(self._sessions) as session:
            resolved = await store.resolve_alert(session, alert.id, now)
            names = await store.site_names(session, [alert.site_id] if alert.site_id else [])
        if resolved is None:
            return
        logger.info("alert %d resolved: %s", resolved.id, resolved.message)
        await self._announce(RESOLVED, resolved, names.get(alert.site_id), rule)

    async def _announce(self, event: str, alert: Alert, site_name: str | None, rule: Rule | None) -> None:
        recipients = list(rule.recipients if rule and rule.recipients else self._settings.recipient_list)
        if recipients:
            message = alert_email(
                event, alert, site_name, self._sender, recipients, self._settings.dashboard_url
            )
            self._notifier.enqueue(message)
        if self._publish is not None and alert.id is not None:
            payload = {"event": "raised" if event == OPENED else "resolved", "alert_id": alert.id}
            try:
                await self._publish("alerts", {**payload, "site_id": alert.site_id})
            except Exception as err:  # a lost live update is logged; the row and the email still stand
                logger.warning("could not publish alert %s event: %s", alert.id, err)

    def _error_rate(self, now: datetime) -> float | None:
        errors, total = self._error_counts()
        self._samples.append((now, errors, total))
        window = self._settings.error_rate_window_seconds
        while len(self._samples) > 1 and (now - self._samples[1][0]).total_seconds() >= window:
            self._samples.popleft()
        _, errors0, total0 = self._samples[0]
        answered = total - total0
        if answered < self._settings.error_rate_min_requests:
            return None
        return 100.0 * (errors - errors0) / answered

    async def _database_down(self, now: datetime, err: Exception) -> None:
        if self._db_down_since is None:
            self._db_down_since = now
            logger.warning("alert engine cannot reach the database: %s", err)
        self._db_error = str(err).splitlines()[0][:300] if str(err) else type(err).__name__
        rule = self._book.database_rule()
        if rule is None or self._db_alert is not None:
            return
        if (now - self._db_down_since).total_seconds() >= rule.threshold * 60 + rule.pending_seconds:
            since = self._db_down_since.strftime("%H:%M:%S UTC")
            text = f"Central database unreachable since {since}: {self._db_error}"
            self._db_alert = Alert(
                rule_id=rule.id, kind=rule.kind, severity=rule.severity, message=text[:1000], opened_at=now
            )
            logger.error("alert opened: %s", text)
            await self._announce(OPENED, self._db_alert, None, rule)

    async def _database_up(self, now: datetime) -> None:
        if self._db_down_since is None:
            return
        logger.info("alert engine reaches the database again")
        alert, self._db_alert, self._db_down_since = self._db_alert, None, None
        if alert is None:
            return
        try:
            async with session_scope(self._sessions) as session:
                fields = alert.model_dump(include={"rule_id", "kind", "severity", "message", "opened_at"})
                row = await store.insert_alert(session, **fields, resolved_at=now)
        except Exception as err:  # it went down again: the alert is still resolved by email
            logger.warning("could not record the database alert: %s", err)
            row = alert
            row.resolved_at = now
        rule = self._book.database_rule()
        if row.id is not None and self._publish is not None:
            await self._announce_raised_only(row)
        await self._announce(RESOLVED, row, None, rule)

    async def _announce_raised_only(self, row: Alert) -> None:
        try:
            await self._publish("alerts", {"event": "raised", "alert_id": row.id, "site_id": None})
        except Exception as err:  # see _announce
            logger.warning("could not publish alert %s event: %s", row.id, err)

    async def run(self) -> None:
        """Tick forever every interval; a failing tick is logged and the next one runs anyway."""
        while True:
            try:
                await self.tick()
            except Exception:  # a bug in one evaluation must not end alerting
                logger.exception("alert engine tick failed")
            await asyncio.sleep(self._settings.interval_seconds)
