"""Background work of each server process: mark silent sites offline, keep readings partitions ahead."""

import asyncio
import contextlib
import logging
import time
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api import metrics
from api.realtime import events
from api.realtime.pubsub import PubSub
from db.central.site_status import count_online, mark_offline
from db.central.storage.maintenance import maintain_storage
from db.engine import session_scope

logger = logging.getLogger(__name__)
PARTITION_CHECK_SECONDS = 24 * 3600


def check_interval(offline_after_minutes: float) -> float:
    """How often to look for silent sites: a quarter of the threshold, between 0.5 s and 30 s."""
    return max(0.5, min(30.0, offline_after_minutes * 60 / 4))


async def check_sites(
    sessions: async_sessionmaker[AsyncSession], pubsub: PubSub, offline_after: timedelta
) -> int:
    """Mark silent sites offline and announce each; return how many changed."""
    async with session_scope(sessions) as session:
        changed = await mark_offline(session, offline_after)
        online = await count_online(session)
    metrics.SITES_ONLINE.set(online)
    for site in changed:
        logger.warning("site %s (%s) offline: not heard from for %s", site.id, site.name, offline_after)
        await events.publish_site_status(pubsub, site)
    return len(changed)


async def maintain_partitions(engine: AsyncEngine, raw_retention_days: int) -> None:
    """Create the coming months' readings partitions and drop raw months past retention (the summary stays)."""
    await maintain_storage(engine, raw_retention_days)


async def run_monitor(
    engine, sessions, pubsub: PubSub, offline_after_minutes: float, raw_retention_days: int
) -> None:
    """Loop until cancelled: site checks every few seconds, partitions and retention once a day."""
    interval = check_interval(offline_after_minutes)
    offline_after = timedelta(minutes=offline_after_minutes)
    last_partition_check = time.monotonic()
    while True:
        await asyncio.sleep(interval)
        try:
            await check_sites(sessions, pubsub, offline_after)
            if time.monotonic() - last_partition_check > PARTITION_CHECK_SECONDS:
                await maintain_partitions(engine, raw_retention_days)
                last_partition_check = time.monotonic()
        except asyncio.CancelledError:
            raise
        except Exception:  # a database hiccup must not end the monitor
            logger.exception("site monitor pass failed; retrying in %.0f s", interval)


async def stop_task(task: asyncio.Task | None) -> None:
    """Cancel a background task and wait for it."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
