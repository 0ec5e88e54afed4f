"""A real SMTP server for tests (aiosmtpd on 127.0.0.1) that keeps every message it receives."""

import asyncio
import email
import email.policy
import socket
import time
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (aiosmtpd cannot bind port 0 itself)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Keeper:
    def __init__(self, inbox: list, refuse: set[str]):
        self.inbox = inbox
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802  (aiosmtpd's hook name)
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.inbox.append((list(envelope.rcpt_tos), msg))
        return "250 OK"


class SmtpSink:
    """Start/stop a local SMTP server; `messages` holds the parsed emails; addresses in `refuse` get a 550."""

    def __init__(self, port: int | None = None, refuse: set[str] | None = None, **controller_options):
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.inbox: list[tuple[list[str], EmailMessage]] = []
        self.refuse = set(refuse or ())
        self._options = controller_options
        self._controller: Controller | None = None

    def start(self) -> "SmtpSink":
        """Listen (again, on the same port after a stop)."""
        self._controller = Controller(
            _Keeper(self.inbox, self.refuse), hostname=self.host, port=self.port, **self._options
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop listening (messages are kept)."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        """Parsed messages received so far."""
        return [msg for _, msg in self.inbox]

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """Wait until at least `count` messages arrived (AssertionError after timeout)."""
        deadline = time.monotonic() + timeout
        while len(self.inbox) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} emails, got {len(self.inbox)}")
            await asyncio.sleep(0.02)
        return self.messages


def bodies(msg: EmailMessage) -> tuple[str, str]:
    """(plain text, HTML) bodies of a message."""
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    return (text.get_content() if text else ""), (html.get_content() if html else "")
