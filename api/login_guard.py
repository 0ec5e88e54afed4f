"""Login throttling: growing delays, then a temporary lock, per account and per client address (shared by
every API worker through PostgreSQL; in the process with SQLite)."""

import logging
import time
from dataclasses import dataclass

from api import metrics
from db.central import login_failures
from db.clock import clock
from db.engine import session_scope

logger = logging.getLogger(__name__)
MAX_DELAY_SECONDS = 300.0
MAX_TRACKED = 100_000


@dataclass
class Policy:
    """How many failures pass freely, how many lock, and for how long."""

    free_failures: int
    lock_failures: int
    lock_seconds: float


@dataclass
class Record:
    """Failures of one account or address, and when the next attempt may come."""

    failures: int = 0
    last_failure: float = 0.0
    next_allowed: float = 0.0
    locked_until: float = 0.0


def _expired(record, policy: Policy, now: float) -> bool:
    """True when the record has been quiet for a whole lock period and is not locked: it starts again."""
    return now >= record.locked_until and now - record.last_failure > policy.lock_seconds


def _wait(record, policy: Policy, now: float) -> float:
    """Seconds before the next attempt may come."""
    return (
        0.0
        if _expired(record, policy, now)
        else max(0.0, max(record.locked_until, record.next_allowed) - now)
    )


def _fail(record, policy: Policy, now: float, scope: str, ident: str) -> None:
    """Count one failure: a growing delay after the free ones, a lock at lock_failures."""
    if _expired(record, policy, now):
        record.failures, record.next_allowed, record.locked_until = 0, 0.0, 0.0
    record.failures += 1
    record.last_failure = now
    if record.failures >= policy.lock_failures:
        if record.locked_until <= now:
            record.locked_until = now + policy.lock_seconds
            metrics.LOGIN_LOCKS.labels(scope).inc()
            logger.warning(
                "login locked for %s %s for %.0f s after %d failed attempts",
                scope,
                ident,
                policy.lock_seconds,
                record.failures,
            )
    elif record.failures > policy.free_failures:
        delay = min(2.0 ** (record.failures - policy.free_failures - 1), MAX_DELAY_SECONDS)
        record.next_allowed = now + delay


class LoginGuard:
    """Counts failed logins per account and per client address in this process; says how long to wait.

    An attempt is counted as a failure before the password is checked, so parallel attempts (aliases,
    batches, many connections) cannot all pass before the first failure is recorded; a success takes it back.
    Unknown e-mails are throttled like known ones, so a lock does not tell which accounts exist.
    Used with SQLite (one process); with PostgreSQL every worker shares SharedLoginGuard's counts.
    """

    def __init__(self, account: Policy, address: Policy, monotonic=time.monotonic) -> None:
        self.policies = {"account": account, "address": address}
        self.records: dict[tuple[str, str], Record] = {}
        self.monotonic = monotonic  # durations only: the lock is a length of time, not a date

    def wait_seconds(self, email: str, address: str) -> float:
        """Seconds before this account may try again from this address (0: it may try now)."""
        now = self.monotonic()
        waits = [0.0]
        for key in (("account", email), ("address", address)):
            record = self._current(key, now)
            if record is not None:
                waits.append(_wait(record, self.policies[key[0]], now))
        return max(waits)

    def attempt(self, email: str, address: str) -> None:
        """Count an attempt as failed until succeeded() says otherwise (call after wait_seconds() == 0)."""
        now = self.monotonic()
        self._prune(now)
        for scope, ident in (("account", email), ("address", address)):
            record = self._current((scope, ident), now) or self.records.setdefault((scope, ident), Record())
            _fail(record, self.policies[scope], now, scope, ident)

    def succeeded(self, email: str, address: str) -> None:
        """The attempt was right: forget the account's failures and take back the address's count."""
        self.records.pop(("account", email), None)
        record = self.records.get(("address", address))
        if record is not None and record.failures > 0:
            record.failures -= 1

    def forget_account(self, email: str) -> None:
        """Lift an account's delay and lock (an administrator set a new password)."""
        self.records.pop(("account", email), None)

    async def begin(self, email: str, address: str) -> float:
        """Seconds to wait (nothing counted), or 0 after counting the attempt as failed."""
        wait = self.wait_seconds(email, address)
        if wait <= 0:
            self.attempt(email, address)
        return wait

    async def ok(self, email: str, address: str) -> None:
        """The attempt was right (see succeeded)."""
        self.succeeded(email, address)

    async def forget(self, email: str) -> None:
        """Lift an account's delay and lock."""
        self.forget_account(email)

    def _current(self, key: tuple[str, str], now: float) -> Record | None:
        record = self.records.get(key)
        if record is not None and _expired(record, self.policies[key[0]], now):
            del self.records[key]  # quiet for a whole lock period: start again
            return None
        return record

    def _prune(self, now: float) -> None:
        if len(self.records) < MAX_TRACKED:
            return
        for key in list(self.records):
            self._current(key, now)
        while len(self.records) >= MAX_TRACKED:  # a flood from many addresses: drop the oldest entries
            del self.records[next(iter(self.records))]


class SharedLoginGuard:
    """The same rules with the counts in PostgreSQL (db/central/login_failures.py): every API worker sees every failure,
    so N workers give no more guesses than one."""

    PRUNE_EVERY = 200  # attempts of this worker between clean-ups of quiet records

    def __init__(self, sessions, account: Policy, address: Policy) -> None:
        self.sessions = sessions
        self.policies = {"account": account, "address": address}
        self._attempts = 0

    async def begin(self, email: str, address: str) -> float:
        """Seconds to wait (nothing counted), or 0 after counting the attempt as failed (atomically)."""
        keys = [("account", email), ("address", address)]
        now = clock().timestamp()

        def wait(row, at):
            return _wait(row, self.policies[row.scope], at)

        def fail(row, at):
            _fail(row, self.policies[row.scope], at, row.scope, row.ident)

        async with session_scope(self.sessions) as session:
            self._attempts += 1
            if self._attempts % self.PRUNE_EVERY == 0:
                quiet = max(p.lock_seconds for p in self.policies.values())
                await login_failures.prune(session, now, quiet)
            return await login_failures.begin_attempt(session, keys, now, wait, fail)

    async def ok(self, email: str, address: str) -> None:
        """The attempt was right: forget the account's failures and take back the address's count."""
        async with session_scope(self.sessions) as session:
            await login_failures.attempt_succeeded(session, ("account", email), ("address", address))

    async def forget(self, email: str) -> None:
        """Lift an account's delay and lock (an administrator set a new password)."""
        async with session_scope(self.sessions) as session:
            await login_failures.forget(session, ("account", email))


def _policies(settings) -> tuple[Policy, Policy]:
    lock_seconds = settings.login_lock_minutes * 60
    return (
        Policy(settings.login_free_failures, settings.login_lock_failures, lock_seconds),
        Policy(settings.login_address_free_failures, settings.login_address_lock_failures, lock_seconds),
    )


def guard_from_settings(settings, sessions=None) -> LoginGuard | SharedLoginGuard:
    """The LOGIN_* rules: counted in PostgreSQL (shared by every worker), else in this process (SQLite)."""
    if sessions is not None and settings.db_url.startswith("postgresql"):
        return SharedLoginGuard(sessions, *_policies(settings))
    return LoginGuard(*_policies(settings))
