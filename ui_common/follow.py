"""The one subscription loop of both dashboards: follow a GraphQL subscription from a background task."""

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing, asynccontextmanager
from typing import Any

logger = logging.getLogger(__name__)

Event = dict[str, Any] | None


def client_connected(state: Any) -> bool:
    """Whether the browser tab of this state is connected now (True when no app runs, e.g. in unit tests)."""
    try:
        from reflex.config import get_config

        namespace = get_config().app_module.app.event_namespace
    except Exception:  # noqa: BLE001  (no app loaded)
        return True
    return namespace is None or state.router.session.client_token in namespace.token_to_sid


@asynccontextmanager
async def taking_over(state: Any, flag: str) -> AsyncIterator[Callable[[], bool]]:
    """Make this background task the tab's one follower named by `flag`; yields whether it still is.

    `flag` names a backend str of the state: the id of the task in charge. A newer task takes over and the
    older one stops at its next wake-up. Reflex cancels a page load's background tasks when the tab moves to
    another page or reconnects, and the next page's task may start before the cancelled one has unwound: a
    "one is running" flag cleared on the way out would then turn the new task away and leave the tab frozen.
    """
    task_id = uuid.uuid4().hex
    async with state:
        setattr(state, flag, task_id)
    try:
        yield lambda: getattr(state, flag) == task_id
    finally:
        async with state:
            if getattr(state, flag) == task_id:
                setattr(state, flag, "")


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
