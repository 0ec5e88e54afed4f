"""Background task of the API lifespan: keeps rollups current by draining rollup_dirty (db/central/rollups/queue.py)."""

import asyncio
import logging
import random

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api import metrics
from db.central.rollups.queue import (
    ALL_PARTS,
    ROLLUP_PARTS,
    fold_round,
    queue_state,
)
from db.engine import session_scope

logger = logging.getLogger(__name__)

INTERVAL_SECONDS = 2.0  # pause between rounds: uploads arriving meanwhile are folded in one round
ERROR_PAUSE_SECONDS = 5.0


async def run_rollup_worker(
    sessions: async_sessionmaker[AsyncSession], interval: float = INTERVAL_SECONDS
) -> None:
    """Fold queued upload ranges into the rollups until cancelled; a full claim is followed at once.

    A round starts at a part of this worker's own (db/central/rollups/queue.py process_once): live uploads
    fold in one transaction over every part; with a backlog each part is its own transaction, and the
    workers of several API processes fold different parts at once. Either way the queue is visited once
    per interval unless a claim was full: rounds made smaller by folding sooner cost more per reading.
    """
    first = random.randrange(ROLLUP_PARTS)
    while True:
        try:
            full = False
            for step in range(ROLLUP_PARTS):
                start = (first + step) % ROLLUP_PARTS
                async with session_scope(sessions) as session:
                    done = await fold_round(session, ALL_PARTS[start:] + ALL_PARTS[:start])
                full = full or done.full
                if not done.alone:  # every free part was in this round
                    break
            async with session_scope(sessions) as session:
                waiting, age = await queue_state(session)
            # Every worker reports the shared queue, also when another worker is the one folding it.
            metrics.ROLLUP_QUEUE.set(waiting)
            metrics.ROLLUP_LAG.set(age)
        except asyncio.CancelledError:
            raise
        except Exception:  # the database may be restarting: keep the queue, try again later
            logger.exception("rollup worker round failed; retrying in %.0f s", ERROR_PAUSE_SECONDS)
            await asyncio.sleep(ERROR_PAUSE_SECONDS)
            continue
        if not full:
            await asyncio.sleep(interval)
