"""The agent's background loops: upload, heartbeat, config refresh, housekeeping. Each survives its own failures."""

import asyncio
import logging

from db.clock import utcnow
from edge_agent.errors import Unauthorized, UploadError
from edge_agent.housekeeping import run_housekeeping
from edge_agent.site_sync import send_heartbeat

logger = logging.getLogger("edge_agent.site_sync")


async def _wait(event: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds` or until the event is set (then clear it)."""
    try:
        await asyncio.wait_for(event.wait(), seconds)
    except TimeoutError:
        pass
    event.clear()


async def sync_loop(agent) -> None:
    """Upload every SYNC interval, or at once when triggered; a rate limit postpones the next cycle."""
    while True:
        try:
            await agent.uploader.sync_once()
            await agent.refresh_gauges()
        except Exception:  # a failed cycle must not end uploading for good
            logger.exception("sync cycle failed")
        await _wait(agent.sync_now, agent.settings.sync_interval)


async def heartbeat_loop(agent) -> None:
    """Send the status every HEARTBEAT_INTERVAL_SECONDS; when central is back, start a sync at once."""
    while True:
        sent = utcnow()
        try:
            async with agent.central_factory() as central:
                await send_heartbeat(agent, central)
            agent.mark_heartbeat()
            if agent.uploader.state == "unreachable":
                agent.uploader.set_state("ok")
                agent.sync_now.set()
        except Unauthorized as err:
            agent.uploader.set_state("unauthorized", str(err))
        except UploadError as err:
            if agent.uploader.state in ("ok", "idle"):
                agent.uploader.set_state("unreachable", str(err), since=sent)
        except Exception:
            logger.exception("heartbeat failed")
        await _follow_alerts(agent)
        await asyncio.sleep(agent.settings.heartbeat_interval_seconds)


async def _follow_alerts(agent) -> None:
    """Alert once when central stays unreachable too long; decide the edge's own alerts; keep both stored."""
    try:
        agent.uploader.outage.check()
        await agent.uploader.outage.save()
        await agent.check_alerts()
    except Exception:  # the edge database being busy must not end the heartbeat
        logger.exception("could not store the last central outage or the edge's alerts")


async def config_loop(agent) -> None:
    """Sync the inventory every CONFIG_REFRESH_SECONDS, or at once after a local change; apply without a restart."""
    while True:
        await _wait(agent.config_now, agent.settings.config_refresh_seconds)
        agent.config_now.clear()
        try:
            await agent.sync_config()
        except UploadError as err:
            logger.info("inventory sync skipped (%s); running version %s", err, agent.inventory.version)
        except Exception:  # anything else: keep the meters that run, try again later
            logger.exception("inventory sync failed")


async def housekeeping_loop(agent) -> None:
    """Retention and VACUUM every HOUSEKEEPING_INTERVAL_SECONDS."""
    settings = agent.settings
    while True:
        try:
            await run_housekeeping(
                agent.engine,
                settings.sync_log_retention_days,
                settings.recent_retention_hours,
                settings.vacuum_interval_hours,
            )
        except Exception:
            logger.exception("housekeeping failed")
        await asyncio.sleep(settings.housekeeping_interval_seconds)
