"""The emails the demo's local mail sink stored (api/alerts/mailsink.py), read back for the dashboard."""

import email
import email.policy
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

MAX_BYTES = 512 * 1024


@dataclass
class StoredEmail:
    """One stored email, reduced to what a reader needs."""

    id: str
    subject: str
    sender: str
    recipients: str
    sent_at: datetime | None
    text: str


def stored_emails(directory: str | Path, limit: int = 100) -> list[StoredEmail]:
    """The newest `limit` emails of the folder, newest first (files too big or unreadable are skipped)."""
    folder = Path(directory)
    if not folder.is_dir():
        return []
    paths = sorted(folder.glob("*.eml"), key=_written, reverse=True)[: max(1, min(limit, 500))]
    found = []
    for path in paths:
        try:
            if path.stat().st_size > MAX_BYTES:
                continue
            found.append(_read(path))
        except OSError:
            continue
    return found


def _written(path: Path) -> tuple[int, str]:
    try:
        return path.stat().st_mtime_ns, path.name
    except OSError:
        return 0, path.name


def _read(path: Path) -> StoredEmail:
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    body = msg.get_body(preferencelist=("plain",))
    try:
        sent_at = parsedate_to_datetime(msg["Date"]) if msg["Date"] else None
    except (TypeError, ValueError):
        sent_at = None
    if sent_at is None:  # stored before emails carried a Date: when the sink wrote the file
        sent_at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    return StoredEmail(
        id=path.stem,
        subject=str(msg["Subject"] or ""),
        sender=str(msg["From"] or ""),
        recipients=str(msg["To"] or ""),
        sent_at=sent_at,
        text=body.get_content() if body is not None else "",
    )
