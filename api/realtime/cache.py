"""Per-worker caches of what dashboards and edges read most, kept correct across workers by pub/sub.

- `site_status` (SITES_TTL, 1 minute): the `sites` list of the dashboards.
- `meter_config` (CONFIG_TTL, 5 minutes): each site's `siteConfig`.

Each worker holds its own copy; a change made through any worker reaches every worker through the same
PostgreSQL NOTIFY that drives the subscriptions (api/realtime/pubsub.py): a "site_status" event whose status differs
from the cached one drops the sites list, and a "cache" event drops what it names. "cache" events are sent
by the database layer inside the writing transaction (db/central/cache_notify.py: a site created, an inventory
version, a collection interval), so they come at commit from whichever process wrote; the API's own site
mutations also drop the worker's copy at once. The TTL bounds what no event announces (queue depths between status
changes; a point an upload discovers on a configured meter). Hits and misses are in /metrics.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from api import metrics
from api.realtime.pubsub import PubSub

logger = logging.getLogger(__name__)

SITES_TTL = 60.0
CONFIG_TTL = 300.0
SITE_STATUS, METER_CONFIG = "site_status", "meter_config"
ALL_SITES = "all"


class TTLCache:
    """Values by key for ttl seconds, counting hits and misses."""

    def __init__(self, name: str, ttl: float) -> None:
        self.name, self.ttl = name, ttl
        self._items: dict[Any, tuple[float, Any]] = {}

    async def get_or_load(self, key: Any, load: Callable[[], Awaitable[Any]]) -> Any:
        """The cached value of key, else load() stored for ttl seconds."""
        held = self._items.get(key)
        if held is not None and held[0] > time.monotonic():
            metrics.CACHE_REQUESTS.labels(self.name, "hit").inc()
            return held[1]
        metrics.CACHE_REQUESTS.labels(self.name, "miss").inc()
        value = await load()
        self._items[key] = (time.monotonic() + self.ttl, value)
        return value

    def peek(self, key: Any) -> Any:
        """The cached value of key, or None (no counting, no expiry check)."""
        held = self._items.get(key)
        return held[1] if held else None

    def drop(self, key: Any = None) -> None:
        """Forget key (every key when None)."""
        if key is None:
            self._items.clear()
        else:
            self._items.pop(key, None)
        metrics.CACHE_INVALIDATIONS.labels(self.name).inc()


class Caches:
    """The worker's caches and the pub/sub listeners that invalidate them."""

    def __init__(self, pubsub: PubSub) -> None:
        self.pubsub = pubsub
        self.sites = TTLCache(SITE_STATUS, SITES_TTL)
        self.configs = TTLCache(METER_CONFIG, CONFIG_TTL)
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        """Listen for invalidations (call after pubsub.start())."""
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._follow("site_status", self._on_status)),
            loop.create_task(self._follow("cache", self._on_cache_event)),
        ]
        await asyncio.sleep(0)  # let both subscribe before the first request

    async def stop(self) -> None:
        """Stop listening."""
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _follow(self, channel: str, handle: Callable[[dict], None]) -> None:
        self.pubsub.internal[channel] = self.pubsub.internal.get(channel, 0) + 1
        try:
            async for payload in self.pubsub.subscribe(channel):
                try:
                    handle(payload)
                except Exception:  # a malformed event drops everything rather than keeping stale data
                    logger.exception("bad %s event for the caches; dropping them", channel)
                    self.sites.drop()
                    self.configs.drop()
        finally:
            self.pubsub.internal[channel] -= 1

    def _on_status(self, event: dict) -> None:
        cached = self.sites.peek(ALL_SITES)
        if cached is None:
            return
        known = {str(site.id): site.status for site in cached}
        if known.get(str(event.get("site_id"))) != event.get("status"):
            self.sites.drop(ALL_SITES)

    def _on_cache_event(self, event: dict) -> None:
        if event.get("cache") == SITE_STATUS:
            self.sites.drop(ALL_SITES)
        elif event.get("cache") == METER_CONFIG:
            site_id = event.get("site_id")
            self.configs.drop(None if site_id is None else int(site_id))
            self.sites.drop(ALL_SITES)

    async def sites_changed(self) -> None:
        """A site was created or changed (not its status): every worker drops its sites list."""
        self.sites.drop(ALL_SITES)
        await self.pubsub.publish("cache", {"cache": SITE_STATUS})
