"""Running the alert engine inside the API's lifespan: started and stopped with the server."""

import asyncio
import contextlib
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.alerts.engine import AlertEngine
from api.alerts.notifier import EmailNotifier
from api.alerts.settings import AlertSettings, get_alert_settings
from api.settings import CentralSettings

logger = logging.getLogger(__name__)


def engine_of(request) -> AlertEngine | None:
    """The alert engine running in this worker, from a request (None when off or unknown)."""
    app = getattr(request, "app", None)
    return getattr(getattr(app, "state", None), "alert_engine", None)


class AlertRuntime:
    """The engine's background task and its email sender; `stop()` ends both."""

    def __init__(self, engine: AlertEngine | None, notifier: EmailNotifier | None, task: asyncio.Task | None):
        self.engine = engine
        self.notifier = notifier
        self._task = task

    async def stop(self) -> None:
        """Cancel the engine and give queued emails a moment to leave."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.notifier is not None:
            await self.notifier.stop(grace=2.0)


async def start_alert_engine(
    settings: CentralSettings,
    sessions: async_sessionmaker[AsyncSession],
    pubsub,
    alert_settings: AlertSettings | None = None,
) -> AlertRuntime:
    """Start the engine in the background (a no-op runtime when ALERT_ENABLED=false)."""
    alert_settings = alert_settings or get_alert_settings()
    if not alert_settings.enabled:
        logger.info("alert engine off (ALERT_ENABLED=false)")
        return AlertRuntime(None, None, None)
    notifier = EmailNotifier(settings, alert_settings)
    notifier.start()
    publish = pubsub.publish if pubsub is not None else None
    engine = AlertEngine(sessions, notifier, alert_settings, sender=settings.smtp_from, publish=publish)
    task = asyncio.get_running_loop().create_task(engine.run(), name="alert-engine")
    logger.info("alert engine checking rules every %.0f s", alert_settings.interval_seconds)
    return AlertRuntime(engine, notifier, task)
