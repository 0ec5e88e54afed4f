"""Background task of the API lifespan: keeps rollups current by draining rollup_dirty (db/central/rollups/queue.py)."""

import asyncio
import logging
import math
import random

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api import metrics
from db.central.rollups.queue import (
    ALL_PARTS,
    ROLLUP_PARTS,
    fold_round,
    holds_a_claim,
    queue_look,
)
from db.engine import session_scope

logger = logging.getLogger(__name__)

INTERVAL_SECONDS = 2.0  # pause between looks at the queue
# Queued ranges wait this long before a round folds them, unless they fill a claim. A fold costs ~40-85 µs per
# point whatever its readings (docs/ingest.md, twentieth pass): folded every 2 s, live uploads of one reading
# per point cost the summary five times what their ingest cost. Queries stay exact meanwhile: they read the
# unfolded tail raw (db/central/energy_read.py).
SETTLE_SECONDS = 60.0
ERROR_PAUSE_SECONDS = 5.0


async def run_rollup_worker(
    sessions: async_sessionmaker[AsyncSession],
    interval: float = INTERVAL_SECONDS,
    settle: float = SETTLE_SECONDS,
) -> None:
    """Fold queued upload ranges into the rollups until cancelled; a full claim is followed at once.

    The queue is folded once this worker has found the same oldest row waiting at every look for `settle`
    seconds (counted in looks, `interval` apart: no clock is read, so a step of the wall clock neither hurries
    nor holds a fold; a fold by any worker changes the oldest row and starts the count again, so the workers
    of several API processes do not fold one after another), or at once when it holds a claim's worth (a
    backlog: its rounds fold many readings per point).
    A round starts at a part of this worker's own (db/central/rollups/queue.py process_once): live uploads
    fold in one transaction over every part; with a backlog each part is its own transaction, and the
    workers of several API processes fold different parts at once. Rounds made smaller by folding sooner
    cost more per reading.
    """
    first = random.randrange(ROLLUP_PARTS)
    looks = math.ceil(settle / interval) + 1 if interval > 0 else 1  # looks at a waiting queue before a fold
    seen, head = 0, None  # looks in a row that found the oldest queued row `head` waiting
    while True:
        try:
            full = False
            async with session_scope(sessions) as session:
                waiting, age, oldest = await queue_look(session)
                seen, head = (seen + 1, head) if waiting and oldest == head else (1 if waiting else 0, oldest)
                due = waiting and (seen >= looks or await holds_a_claim(session))
            if due:
                for step in range(ROLLUP_PARTS):
                    start = (first + step) % ROLLUP_PARTS
                    async with session_scope(sessions) as session:
                        done = await fold_round(session, ALL_PARTS[start:] + ALL_PARTS[:start])
                    full = full or done.full
                    if not done.alone:  # every free part was in this round
                        break
                seen, head = 0, None  # rows queued during the round wait their own settle
                async with session_scope(sessions) as session:
                    waiting, age, _ = await queue_look(session)
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
