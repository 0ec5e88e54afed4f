"""A local SMTP server that keeps every message as an .eml file (the demo's mail sink)."""

import logging
import socket
from email import message_from_bytes
from email.policy import default
from pathlib import Path

from aiosmtpd.controller import Controller

logger = logging.getLogger(__name__)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (aiosmtpd cannot take port 0)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class _SaveToFolder:
    """aiosmtpd handler writing each message to the folder, numbered."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        """Store one message and log its subject."""
        count = len(list(self.folder.glob("*.eml"))) + 1
        path = self.folder / f"{count:05d}.eml"
        path.write_bytes(envelope.content)
        subject = message_from_bytes(envelope.content, policy=default)["subject"]
        logger.info("mail to %s: %s (%s)", ", ".join(envelope.rcpt_tos), subject, path)
        return "250 Message accepted for delivery"


class MailSink:
    """Start/stop a loopback SMTP server saving mail under a folder."""

    def __init__(self, folder: Path, host: str = "127.0.0.1", port: int | None = None):
        self.folder, self.host, self.port = folder, host, port or free_port(host)
        self._controller = Controller(_SaveToFolder(folder), hostname=host, port=self.port)

    def start(self) -> "MailSink":
        """Begin accepting mail."""
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop accepting mail."""
        self._controller.stop()

    def messages(self) -> list[Path]:
        """Saved messages, oldest first."""
        return sorted(self.folder.glob("*.eml"))
