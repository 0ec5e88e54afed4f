"""The local login: the agent's password buys a signed, expiring token; every operation but login needs one.

The password is LOCAL_API_PASSWORD, or (without it) an argon2 hash in LOCAL_API_PASSWORD_FILE, generated at
the agent's first start and printed once (edge_agent/local_password.py). Tokens are
`<expiry unix seconds>.<HMAC-SHA256 hex>` keyed by the password (or its stored hash), so a new password
revokes every token and the agent keeps no session store; a reset hash file is picked up without a restart.
"""

import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from pathlib import Path

from db.central.secrets import verify_password
from db.clock import clock

TOKEN_TTL_SECONDS = 12 * 3600


class LocalAuth:
    """Checks the password and issues/verifies tokens; with neither password nor file everything is allowed
    (unit tests only: the agent's LocalApiServer always has one)."""

    def __init__(
        self, password: str | None, ttl_seconds: float = TOKEN_TTL_SECONDS, password_file: Path | None = None
    ) -> None:
        self.password = password or None
        self.password_file = None if self.password else password_file
        self.ttl_seconds = ttl_seconds
        self._stamp: tuple[int, int] | None = None
        self._hash = ""
        self._key = b""
        self._refresh()

    def _refresh(self) -> None:
        """(Re)read the stored hash when its file changed (a reset while the agent runs)."""
        if self.password:
            if not self._key:
                self._key = hashlib.sha256(f"meterit-local-api:{self.password}".encode()).digest()
            return
        if self.password_file is None:
            return
        try:
            found = self.password_file.stat()
        except OSError:
            return  # kept: a file being replaced answers with the hash read before
        stamp = (found.st_mtime_ns, found.st_size)
        if stamp != self._stamp:
            self._hash = self.password_file.read_text(encoding="utf-8").strip()
            self._key = hashlib.sha256(f"meterit-local-api:{self._hash}".encode()).digest()
            self._stamp = stamp

    @property
    def required(self) -> bool:
        """Whether requests need a token (always, on the agent)."""
        return self.password is not None or self.password_file is not None

    def _sign(self, expires: int) -> str:
        return hmac.new(self._key, str(expires).encode(), hashlib.sha256).hexdigest()

    def matches(self, password: str) -> bool:
        """Whether this is the password (argon2 for a stored hash: call it off the event loop)."""
        self._refresh()
        if self.password is not None:
            return secrets.compare_digest(password.encode(), self.password.encode())
        return bool(self._hash) and verify_password(password, self._hash)

    def issue(self) -> tuple[str, datetime]:
        """A new token and its expiry (after the password matched)."""
        expires = int(clock().timestamp() + self.ttl_seconds)
        return f"{expires}.{self._sign(expires)}", datetime.fromtimestamp(expires, UTC)

    def login(self, password: str) -> tuple[str, datetime] | None:
        """A token and its expiry for the right password, else None."""
        if not self.required or not self.matches(password):
            return None
        return self.issue()

    def valid(self, token: str | None) -> bool:
        """Whether this token (with or without a 'Bearer ' prefix) is current; always True without a password."""
        if not self.required:
            return True
        self._refresh()
        if not token:
            return False
        token = token.removeprefix("Bearer ").strip()
        expires, _, signature = token.partition(".")
        if not expires.isdigit() or int(expires) < clock().timestamp():
            return False
        return secrets.compare_digest(signature, self._sign(int(expires)))
