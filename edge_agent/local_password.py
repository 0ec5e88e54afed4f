"""The edge local API's password when LOCAL_API_PASSWORD is not set: generated once, stored as an argon2 hash."""

import os
import secrets
from pathlib import Path

from db.central.secrets import hash_password


def new_password(path: Path) -> str:
    """Generate a password, store its hash in path (mode 600) and return it: the only time it exists in clear."""
    password = secrets.token_urlsafe(15)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(hash_password(password) + "\n")
    os.replace(temporary, path)  # a running agent never reads half a file
    return password


def ensure_password(path: Path) -> str | None:
    """A newly generated password when path holds none yet (first start), else None."""
    if path.is_file() and path.read_text(encoding="utf-8").strip():
        return None
    return new_password(path)
