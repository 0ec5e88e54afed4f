"""Housekeeping of the edge database: retention of the sync log and recent readings, VACUUM on a schedule."""

import logging
import time

from db.clock import clock
from db.edge.store import get_state, purge, set_state, vacuum

logger = logging.getLogger(__name__)

VACUUM_STATE_KEY = "last_vacuum"


async def run_housekeeping(engine, sync_log_days: float, recent_hours: float, vacuum_hours: float) -> dict:
    """Purge old rows; VACUUM when the last one is older than vacuum_hours. Returns what was done."""
    deleted = await purge(engine, sync_log_days, recent_hours)
    done = {"deleted": deleted, "vacuumed": False}
    last = (await get_state(engine, VACUUM_STATE_KEY) or {}).get("at")
    if last is None:
        # A fresh database needs no compaction; start the schedule from now.
        await set_state(engine, VACUUM_STATE_KEY, {"at": clock().timestamp()})
    elif clock().timestamp() - last >= vacuum_hours * 3600:
        started = time.monotonic()
        await vacuum(engine)
        await set_state(engine, VACUUM_STATE_KEY, {"at": clock().timestamp()})
        done["vacuumed"] = True
        logger.info("edge database vacuumed in %.1f s", time.monotonic() - started)
    if any(deleted.values()):
        logger.info("housekeeping deleted %s", deleted)
    return done
