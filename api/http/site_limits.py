"""Site-key rate limits: requests counted per site after authentication, failed keys per client address.

Counting only authenticated requests per site id means nobody can spend a site's allowance without its key
(the old limiter counted by the key's non-secret prefix before checking it: junk keys with a site's prefix
locked the site out). Wrong keys are counted per client address instead, and past the limit that address
gets HTTP 429 for its wrong keys; a right key is still checked and served, so a flood of junk from an
address shared with an edge (a NAT, a reverse proxy not listed in TRUSTED_PROXIES) does not lock the edge out.

Without Redis the windows live in the process (LocalWindows). The `limits` library's async memory storage
is not used for that: after every hit it scheduled an expiry pass that hopped to a thread once per stored
identity, ~14% of the API's CPU in `meterit bench ingest` (py-spy, 2026-12-06).
"""

import logging
import math
import time
from collections import deque

from limits import RateLimitItemPerMinute
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from api import metrics

logger = logging.getLogger(__name__)


class RateLimited(Exception):
    """Answered with HTTP 429 and Retry-After (api/http/view.py)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class LocalWindows:
    """Moving one-minute windows kept in this process: each identity's recent request times, oldest first.

    A hit costs a few deque operations; identities idle for a whole window are dropped once a window.
    Durations only, so the monotonic clock (db/clock.py: not the deployable's clock).
    """

    WINDOW_SECONDS = 60.0

    def __init__(self) -> None:
        self._times: dict[str, deque[float]] = {}
        self._swept = time.monotonic()

    def hit(self, amount: int, ident: str) -> int | None:
        """Count one request of ident if fewer than amount fell in the last window; else seconds to wait."""
        now = time.monotonic()
        cutoff = now - self.WINDOW_SECONDS
        if now - self._swept > self.WINDOW_SECONDS:
            self._sweep(cutoff)
            self._swept = now
        times = self._times.get(ident)
        if times is None:
            times = self._times[ident] = deque()
        while times and times[0] <= cutoff:
            times.popleft()
        if len(times) >= amount:
            return max(1, math.ceil(times[0] - cutoff))
        times.append(now)
        return None

    def _sweep(self, cutoff: float) -> None:
        for ident in [i for i, times in self._times.items() if not times or times[-1] <= cutoff]:
            del self._times[ident]


class SiteKeyLimiter:
    """A moving-window limit per site id and one per client address for failed keys (in process or Redis)."""

    def __init__(self, per_minute: int, failed_per_minute: int, redis_url: str | None = None) -> None:
        self.per_site = RateLimitItemPerMinute(per_minute)
        self.failed = RateLimitItemPerMinute(failed_per_minute)
        self.local = None if redis_url else LocalWindows()
        self.limiter = (
            MovingWindowRateLimiter(storage_from_string("async+" + redis_url)) if redis_url else None
        )

    async def _refused(self, item, ident: str) -> int | None:
        """Count a request of ident against item; None when allowed, else seconds until it would be."""
        if self.local is not None:
            return self.local.hit(item.amount, ident)
        if await self.limiter.hit(item, ident):
            return None
        return await self._retry_after(item, ident)

    async def count_site(self, site_id: int) -> None:
        """Count an authenticated request of the site; RateLimited past its limit."""
        ident = f"site:{site_id}"
        retry = await self._refused(self.per_site, ident)
        if retry is not None:
            metrics.RATE_LIMITED.labels("site").inc()
            logger.info("rate limit reached for site %d (retry after %d s)", site_id, retry)
            raise RateLimited(
                f"rate limit of {self.per_site.amount} requests per minute reached; retry later", retry
            )

    async def count_failure(self, address: str) -> None:
        """Count a wrong key from address; RateLimited (instead of 401) past the limit."""
        ident = f"failed-key:{address}"
        retry = await self._refused(self.failed, ident)
        if retry is not None:
            metrics.RATE_LIMITED.labels("failed_key").inc()
            logger.info("too many wrong site keys from %s (retry after %d s)", address, retry)
            raise RateLimited(
                f"too many wrong keys from {address}: {self.failed.amount} a minute at most; retry later",
                retry,
            )

    async def _retry_after(self, item, ident: str) -> int:
        stats = await self.limiter.get_window_stats(item, ident)
        # the limiter keeps its windows in system time, so Retry-After is measured against the same
        return max(1, math.ceil(stats.reset_time - time.time()))
