"""A site's allowed networks: the client address of a site-key request (behind trusted proxies) and the check."""

import logging

from api import metrics
from db.central.networks import Networks, address_in, client_address
from db.central.sites import SiteIdentity
from db.clock import clock

logger = logging.getLogger(__name__)
REMEMBERED_PER_HOUR = 10_000


class RefusalLog:
    """Says whether a refused address is the first of its hour, so each one is logged once per hour."""

    def __init__(self, limit: int = REMEMBERED_PER_HOUR) -> None:
        self.limit = limit
        self.hour = None
        self.seen: set[str] = set()

    def first_this_hour(self, address: str) -> bool:
        """True the first time address is refused in the current clock hour."""
        hour = clock().now().replace(minute=0, second=0, microsecond=0)
        if hour != self.hour:
            self.hour, self.seen = hour, set()
        # Past the limit (a scan from many addresses) the rest of the hour is counted in /metrics only.
        if address in self.seen or len(self.seen) >= self.limit:
            return False
        self.seen.add(address)
        return True


class AddressGuard:
    """Refuses a site key used from outside the site's allowed networks (none listed: any address)."""

    def __init__(self, trusted_proxies: Networks) -> None:
        self.trusted_proxies = trusted_proxies
        self.log = RefusalLog()

    def refusal(self, site: SiteIdentity, peer: str | None, forwarded_for: str | None) -> str | None:
        """Why this request may not use the site's key (for HTTP 403), or None when it may."""
        if not site.allowed_networks:
            return None
        address = client_address(peer, forwarded_for, self.trusted_proxies)
        if address is not None and address_in(address, site.allowed_networks):
            return None
        shown = str(address) if address is not None else "an unreadable address"
        metrics.SITE_ADDRESS_REFUSED.labels(str(site.id)).inc()
        if self.log.first_this_hour(shown):
            logger.warning(
                "site %d (%s): key used from %s, outside its allowed networks %s (peer %s); logged once an hour",
                site.id,
                site.name,
                shown,
                ", ".join(map(str, site.allowed_networks)),
                peer,
            )
        return f"the key of site {site.id} is not accepted from {shown}: outside the site's allowed networks"


def request_address(request, trusted_proxies: Networks) -> str:
    """The client address of an HTTP request or websocket (behind trusted proxies), as text."""
    if request is None:
        return "-"
    peer = (request.scope.get("client") or (None, 0))[0]
    forwarded = ",".join(request.headers.getlist("x-forwarded-for")) or None
    address = client_address(peer, forwarded, trusted_proxies)
    return str(address) if address is not None else "-"
