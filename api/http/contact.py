"""Site liveness on central: every request authenticated by a site key counts as contact (db/central/contact.py)."""

import logging
import time

from api.realtime import events
from api.realtime.pubsub import PubSub
from db.central.contact import record_contact
from db.engine import session_scope

logger = logging.getLogger(__name__)


def write_spacing(offline_after_minutes: float) -> float:
    """Seconds between two contact writes of one site in one process: a tenth of the threshold, 1 s to 10 s."""
    return max(1.0, min(10.0, offline_after_minutes * 6))


class ContactRecorder:
    """Records contacts of each site at most every `spacing` seconds per process (an upload stays one write)."""

    def __init__(self, sessions, pubsub: PubSub, offline_after_minutes: float, degraded_queue_depth: int):
        self.sessions, self.pubsub = sessions, pubsub
        self.spacing = write_spacing(offline_after_minutes)
        self.degraded_queue_depth = degraded_queue_depth
        self._written: dict[int, float] = {}

    async def heard(self, site_id: int) -> None:
        """The site's edge just made a request: record it (unless recorded moments ago) and announce a comeback."""
        now = time.monotonic()
        if now - self._written.get(site_id, -1e9) < self.spacing:
            return
        async with session_scope(self.sessions) as session:
            back = await record_contact(session, site_id, self.degraded_queue_depth)
        self._written[site_id] = now
        if back is not None:
            logger.info("site %s (%s) heard from again: %s", back.id, back.name, back.status)
            await events.publish_site_status(self.pubsub, back)
