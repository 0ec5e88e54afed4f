"""A local SMTP server that stores every email it receives as a .eml file (for `meterit demo` and development)."""

import email
import email.policy
import logging
import socket
import time
from pathlib import Path

from aiosmtpd.controller import Controller

logger = logging.getLogger(__name__)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (aiosmtpd cannot bind port 0 itself)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class _Store:
    def __init__(self, directory: Path):
        self.directory = directory

    async def handle_DATA(self, server, session, envelope):  # noqa: N802  (aiosmtpd's hook name)
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        path = self.directory / f"{time.strftime('%Y%m%d-%H%M%S')}-{time.monotonic_ns() % 10**9:09d}.eml"
        path.write_bytes(envelope.content)
        logger.info(
            "mail sink stored %r for %s in %s", msg["Subject"], ", ".join(envelope.rcpt_tos), path.name
        )
        return "250 OK"


class LocalMailSink:
    """`start()` listens on 127.0.0.1:port; point SMTP_HOST/SMTP_PORT at it; `stop()` ends it."""

    def __init__(self, directory: str | Path, port: int | None = None, host: str = "127.0.0.1") -> None:
        self.directory = Path(directory)
        self.host = host
        self.port = port or free_port(host)
        self._controller: Controller | None = None

    def start(self) -> "LocalMailSink":
        """Create the directory and listen (runs in its own thread)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._controller = Controller(_Store(self.directory), hostname=self.host, port=self.port)
        self._controller.start()
        logger.info("mail sink on %s:%d storing into %s", self.host, self.port, self.directory)
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self) -> list[email.message.EmailMessage]:
        """Stored emails, oldest first."""
        return [
            email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
            for p in sorted(self.directory.glob("*.eml"))
        ]
