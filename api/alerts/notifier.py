"""Email out of the alert engine: a queue drained by one task, retried with backoff, capped per hour."""

import asyncio
import contextlib
import logging
import ssl
import time
from collections import deque
from collections.abc import Callable
from email.message import EmailMessage

import aiosmtplib

from api.alerts.errors import EmailError, EmailNotConfigured
from api.alerts.settings import AlertSettings
from api.settings import CentralSettings

logger = logging.getLogger(__name__)
HOUR = 3600.0


def _permanent(err: BaseException | None) -> bool:
    """5xx answers (bad login, unknown recipients) will not change on retry; outages and 4xx may."""
    if isinstance(err, aiosmtplib.SMTPRecipientsRefused):
        return all(r.code >= 500 for r in err.recipients)
    return isinstance(err, aiosmtplib.SMTPResponseException) and err.code >= 500


class EmailNotifier:
    """Sends alert emails without ever blocking or stopping the engine that enqueues them."""

    def __init__(
        self,
        smtp: CentralSettings,
        alerts: AlertSettings,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self._smtp = smtp
        self._alerts = alerts
        self._monotonic = monotonic
        self._tls_context = tls_context
        self._queue: asyncio.Queue[EmailMessage] = asyncio.Queue()
        self._recent: deque[float] = deque()
        self._task: asyncio.Task | None = None
        self.sent = 0
        self.failed = 0
        self.suppressed = 0

    @property
    def configured(self) -> bool:
        """True when SMTP_HOST is set."""
        return bool(self._smtp.smtp_host)

    def enqueue(self, message: EmailMessage) -> bool:
        """Queue a message unless the hourly cap is reached or email is off; True when queued."""
        if not self.configured:
            logger.info("SMTP_HOST not set: not emailing %r", message["Subject"])
            return False
        now = self._monotonic()
        while self._recent and now - self._recent[0] >= HOUR:
            self._recent.popleft()
        cap = self._alerts.email_cap_per_hour
        if cap and len(self._recent) >= cap:
            self.suppressed += 1
            logger.warning("alert email cap of %d per hour reached; not sending %r", cap, message["Subject"])
            return False
        self._recent.append(now)
        self._queue.put_nowait(message)
        return True

    async def deliver(self, message: EmailMessage) -> None:
        """Hand one message to the SMTP server now (one attempt); EmailError on failure."""
        if not self.configured:
            raise EmailNotConfigured("SMTP_HOST is not set: email is off")
        s = self._smtp
        try:
            await aiosmtplib.send(
                message,
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_user or None,
                password=s.smtp_password or None,
                start_tls=bool(s.smtp_starttls),
                tls_context=self._tls_context,
                timeout=self._alerts.smtp_timeout_seconds,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as err:
            raise EmailError(f"SMTP {s.smtp_host}:{s.smtp_port}: {err}") from err

    async def _deliver_with_retries(self, message: EmailMessage) -> None:
        delay = self._alerts.retry_base_seconds
        attempts = self._alerts.send_attempts
        for attempt in range(1, attempts + 1):
            try:
                await self.deliver(message)
                self.sent += 1
                logger.info("alert email sent: %s", message["Subject"])
                return
            except EmailError as err:
                if _permanent(err.__cause__) or attempt == attempts:
                    self.failed += 1
                    logger.error(
                        "alert email dropped after %d attempt(s): %s (%s)", attempt, message["Subject"], err
                    )
                    return
                logger.warning("alert email attempt %d failed (%s); retrying in %.1f s", attempt, err, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._alerts.retry_max_seconds)

    async def _run(self) -> None:
        while True:
            message = await self._queue.get()
            try:
                await self._deliver_with_retries(message)
            except Exception:  # a bug here must not end the sender; the message is lost and said so
                logger.exception("unexpected failure sending alert email")
            finally:
                self._queue.task_done()

    def start(self) -> None:
        """Start the sending task (idempotent)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="alert-email")

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait until every queued message was sent or dropped (tests, shutdown)."""
        await asyncio.wait_for(self._queue.join(), timeout)

    async def stop(self, grace: float = 5.0) -> None:
        """Give queued messages a short chance to go out, then stop the task."""
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError):
            await self.drain(grace)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
