"""Optional local login: a password from the edge's settings buys a signed, expiring token.

Tokens are `<expiry unix seconds>.<HMAC-SHA256 hex>` keyed by the password itself, so changing the password
revokes every token and the agent keeps no session store.
"""

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from db.clock import clock

TOKEN_TTL_SECONDS = 12 * 3600


class LocalAuth:
    """Checks the password and issues/verifies tokens; with no password everything is allowed."""

    def __init__(self, password: str | None, ttl_seconds: float = TOKEN_TTL_SECONDS) -> None:
        self.password = password or None
        self.ttl_seconds = ttl_seconds
        self._key = hashlib.sha256(f"meterit-local-api:{password}".encode()).digest() if password else b""

    @property
    def required(self) -> bool:
        """Whether requests need a token."""
        return self.password is not None

    def _sign(self, expires: int) -> str:
        return hmac.new(self._key, str(expires).encode(), hashlib.sha256).hexdigest()

    def login(self, password: str) -> tuple[str, datetime] | None:
        """A token and its expiry for the right password, else None."""
        if not self.required or not secrets.compare_digest(password.encode(), self.password.encode()):
            return None
        expires = int(clock().timestamp() + self.ttl_seconds)
        return f"{expires}.{self._sign(expires)}", datetime.fromtimestamp(expires, UTC)

    def valid(self, token: str | None) -> bool:
        """Whether this token (with or without a 'Bearer ' prefix) is current; always True without a password."""
        if not self.required:
            return True
        if not token:
            return False
        token = token.removeprefix("Bearer ").strip()
        expires, _, signature = token.partition(".")
        if not expires.isdigit() or int(expires) < clock().timestamp():
            return False
        return secrets.compare_digest(signature, self._sign(int(expires)))
