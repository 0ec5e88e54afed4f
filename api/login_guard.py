"""Login throttling: growing delays, then a temporary lock, per account and per client address (per process)."""

import logging
import time
from dataclasses import dataclass

from api import metrics

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


class LoginGuard:
    """Counts failed logins per account and per client address; says how long a caller must wait.

    An attempt is counted as a failure before the password is checked, so parallel attempts (aliases,
    batches, many connections) cannot all pass before the first failure is recorded; a success takes it back.
    Unknown e-mails are throttled like known ones, so a lock does not tell which accounts exist.
    """

    def __init__(self, account: Policy, address: Policy, monotonic=time.monotonic) -> None:
        self.policies = {"account": account, "address": address}
        self.records: dict[tuple[str, str], Record] = {}
        self.monotonic = monotonic  # durations only: the lock is a length of time, not a date

    def wait_seconds(self, email: str, address: str) -> float:
        """Seconds before this account may try again from this address (0: it may try now)."""
        now = self.monotonic()
        waits = [0.0]
        for scope, ident in (("account", email), ("address", address)):
            record = self._current((scope, ident), now)
            if record is not None:
                waits.append(max(record.locked_until, record.next_allowed) - now)
        return max(waits)

    def attempt(self, email: str, address: str) -> None:
        """Count an attempt as failed until succeeded() says otherwise (call after wait_seconds() == 0)."""
        now = self.monotonic()
        self._prune(now)
        for scope, ident in (("account", email), ("address", address)):
            self._fail((scope, ident), now)

    def succeeded(self, email: str, address: str) -> None:
        """The attempt was right: forget the account's failures and take back the address's count."""
        self.records.pop(("account", email), None)
        record = self.records.get(("address", address))
        if record is not None and record.failures > 0:
            record.failures -= 1

    def forget_account(self, email: str) -> None:
        """Lift an account's delay and lock (an administrator set a new password)."""
        self.records.pop(("account", email), None)

    def _current(self, key: tuple[str, str], now: float) -> Record | None:
        record = self.records.get(key)
        policy = self.policies[key[0]]
        if (
            record is not None
            and now >= record.locked_until
            and now - record.last_failure > policy.lock_seconds
        ):
            del self.records[key]  # quiet for a whole lock period: start again
            return None
        return record

    def _fail(self, key: tuple[str, str], now: float) -> None:
        scope, ident = key
        policy = self.policies[scope]
        record = self._current(key, now) or self.records.setdefault(key, Record())
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

    def _prune(self, now: float) -> None:
        if len(self.records) < MAX_TRACKED:
            return
        for key in list(self.records):
            self._current(key, now)
        while len(self.records) >= MAX_TRACKED:  # a flood from many addresses: drop the oldest entries
            del self.records[next(iter(self.records))]


def guard_from_settings(settings) -> LoginGuard:
    """A LoginGuard with the LOGIN_* settings."""
    lock_seconds = settings.login_lock_minutes * 60
    return LoginGuard(
        Policy(settings.login_free_failures, settings.login_lock_failures, lock_seconds),
        Policy(settings.login_address_free_failures, settings.login_address_lock_failures, lock_seconds),
    )
