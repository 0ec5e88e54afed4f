"""Site-key rate limits: requests counted per site after authentication, failed keys per client address.

Counting only authenticated requests per site id means nobody can spend a site's allowance without its key
(the old limiter counted by the key's non-secret prefix before checking it: junk keys with a site's prefix
locked the site out). Wrong keys are counted per client address instead, and past the limit that address
gets HTTP 429 for its wrong keys; a right key is still checked and served, so a flood of junk from an
address shared with an edge (a NAT, a reverse proxy not listed in TRUSTED_PROXIES) does not lock the edge out.
"""

import logging
import math
import time

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


class SiteKeyLimiter:
    """A moving-window limit per site id and one per client address for failed keys (memory or Redis)."""

    def __init__(self, per_minute: int, failed_per_minute: int, redis_url: str | None = None) -> None:
        self.per_site = RateLimitItemPerMinute(per_minute)
        self.failed = RateLimitItemPerMinute(failed_per_minute)
        uri = "async+" + redis_url if redis_url else "async+memory://"
        self.limiter = MovingWindowRateLimiter(storage_from_string(uri))

    async def count_site(self, site_id: int) -> None:
        """Count an authenticated request of the site; RateLimited past its limit."""
        ident = f"site:{site_id}"
        if not await self.limiter.hit(self.per_site, ident):
            retry = await self._retry_after(self.per_site, ident)
            metrics.RATE_LIMITED.labels("site").inc()
            logger.info("rate limit reached for site %d (retry after %d s)", site_id, retry)
            raise RateLimited(
                f"rate limit of {self.per_site.amount} requests per minute reached; retry later", retry
            )

    async def count_failure(self, address: str) -> None:
        """Count a wrong key from address; RateLimited (instead of 401) past the limit."""
        ident = f"failed-key:{address}"
        if not await self.limiter.hit(self.failed, ident):
            retry = await self._retry_after(self.failed, ident)
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
