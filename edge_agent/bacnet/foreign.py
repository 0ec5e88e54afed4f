"""Foreign-device registration with a BBMD (BACNET_BBMD_ADDRESS): its state, and registering again if it lapses.

bacpypes3's BIPForeign registers, renews every TTL seconds (the BBMD keeps an entry for TTL + 30 s, so a
renewal lands before the entry expires) and retries every 5 s while the BBMD does not answer. Once an entry
has lapsed (no answer for TTL + 30 s) it stops trying for good; `watch()` starts it again, so an edge
outlives a BBMD restart or a long network outage. Broadcasts (Who-Is) go through the BBMD only while
registered.
"""

import asyncio
import logging
from datetime import datetime

from bacpypes3.app import Application
from bacpypes3.ipv4.bvll import Result
from bacpypes3.pdu import IPv4Address

from db.clock import clock
from edge_agent import metrics

logger = logging.getLogger(__name__)

STATES = {-2: "unregistered", -1: "registering", 0: "registered"}


class ForeignRegistration:
    """Follows one application's registration with its BBMD."""

    def __init__(self, app: Application, bbmd: str, ttl: int) -> None:
        self.layer = next(
            layer for layer in app.link_layers.values() if hasattr(layer, "bbmdRegistrationStatus")
        )
        self.bbmd = bbmd
        self.ttl = ttl
        self.registrations = 0
        self.registered_at: datetime | None = None
        self.lapses = 0
        receive = self.layer.confirmation

        async def confirmation(lpdu) -> None:
            await receive(lpdu)
            if isinstance(lpdu, Result) and lpdu.pduSource == self.layer.bbmdAddress:
                self._answered(int(lpdu.bvlciResultCode))

        self.layer.confirmation = confirmation

    def _answered(self, code: int) -> None:
        if code == 0:
            if self.registrations == 0 or self.lapses:
                logger.info("registered as a foreign device with BBMD %s (TTL %d s)", self.bbmd, self.ttl)
            self.registrations += 1
            self.registered_at = clock().now()
            metrics.BBMD_REGISTERED.set(1)
            metrics.BBMD_REGISTRATIONS.inc()
        elif code == 0x0030:
            logger.error(
                "BBMD %s refused the foreign-device registration (result code 0x%04x)", self.bbmd, code
            )
            metrics.BBMD_REGISTERED.set(0)

    @property
    def state(self) -> str:
        """'registered', 'registering', 'unregistered' or 'refused (0x0030)'."""
        status = self.layer.bbmdRegistrationStatus
        return STATES.get(status, f"refused (0x{status:04x})")

    async def wait_registered(self, timeout: float) -> bool:
        """Wait up to timeout seconds for the registration; True when registered."""
        try:
            await asyncio.wait_for(self.layer._registration_event.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def check(self) -> None:
        """Register again when the registration has lapsed (bacpypes3 gives up by itself then)."""
        if self.layer.bbmdRegistrationStatus == -2:
            self.lapses += 1
            metrics.BBMD_REGISTERED.set(0)
            logger.warning("foreign-device registration with BBMD %s lapsed; registering again", self.bbmd)
            self.layer.register(IPv4Address(self.bbmd), self.ttl)

    async def watch(self, interval: float | None = None) -> None:
        """check() every interval seconds (default: half the TTL, at most 30 s) until cancelled."""
        while True:
            await asyncio.sleep(interval or min(30.0, self.ttl / 2))
            self.check()
