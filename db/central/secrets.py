"""Site API keys (random, shown once, stored as SHA-256) and user passwords (argon2)."""

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

KEY_PREFIX_LEN = 12
_password_hasher = PasswordHasher()


def new_api_key() -> tuple[str, str, str]:
    """Return (key, prefix, hash) for a new site key; only prefix and hash are stored."""
    prefix = "mk_" + secrets.token_hex(4) + "_"
    key = prefix + secrets.token_urlsafe(32)
    return key, key_prefix(key), hash_api_key(key)


def key_prefix(key: str) -> str:
    """The non-secret part of a key used to find its site."""
    return key[:KEY_PREFIX_LEN]


def hash_api_key(key: str) -> str:
    """SHA-256 of the key: enough for 256 random bits, and cheap per request."""
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_matches(key: str, stored_hash: str) -> bool:
    """Constant-time comparison of a presented key with a stored hash."""
    return hmac.compare_digest(hash_api_key(key), stored_hash)


def hash_password(password: str) -> str:
    """Argon2id hash of a password."""
    return _password_hasher.hash(password)


def verify_password(password: str, stored_hash: str) -> bool:
    """True when the password matches the stored argon2 hash."""
    try:
        return _password_hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False
