"""The one subscription loop of both dashboards: follow a GraphQL subscription from a background task."""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from typing import Any

logger = logging.getLogger(__name__)

Event = dict[str, Any] | None


async def follow(
    state: Any,
    events: Callable[[], AsyncIterator[Event]],
    in_charge: Callable[[], bool],
    handle: Callable[[Event], Awaitable[None]],
    interrupted: Callable[[Exception], bool],
    errors: tuple[type[Exception], ...],
    retry_seconds: float,
    after: Callable[[], Awaitable[None]] | None = None,
    stale_seconds: float | None = None,
) -> None:
    """Keep a subscription open while `in_charge()`, reconnecting after `retry_seconds` on loss.

    `state` is the Reflex state of the background task: `in_charge`, `handle` (each event, and None on each
    quiet tick) and `interrupted` (each error of `errors`; True stops the loop) run inside `async with state`;
    `after` runs outside the lock after each event (for fetches that must not block the tab's other events).
    `stale_seconds`: for a subscription the server pushes on at least that often, how long a silence (quiet
    ticks only) may last before the subscription counts as lost and is opened again.
    """
    loop = asyncio.get_running_loop()
    while True:
        try:
            heard = loop.time()
            async with aclosing(events()) as stream:
                async for event in stream:
                    if event is not None:
                        heard = loop.time()
                    elif stale_seconds is not None and loop.time() - heard > stale_seconds:
                        logger.info("no live update for %.0f s: subscribing again", loop.time() - heard)
                        break
                    async with state:
                        if not in_charge():
                            return
                        await handle(event)
                    if after is not None:
                        await after()
        except errors as err:
            async with state:
                if interrupted(err):
                    return
        async with state:
            if not in_charge():
                return
        await asyncio.sleep(retry_seconds)
