"""COV subscriptions for points that ask for them (`cov: true`): each notification becomes a queued reading.

Polling goes on for these points too; COV only adds the changes between polls. A subscription that fails
(device silent, COV refused) is retried after a pause without affecting anything else.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable

from bacpypes3.apdu import ErrorRejectAbortNack
from bacpypes3.app import Application
from bacpypes3.pdu import Address
from bacpypes3.primitivedata import ObjectIdentifier

from db.edge.outbox import Outbox, OutboxFull, Reading
from db.inventory import InventoryPoint
from db.wire import Quality
from edge_agent.collector.poller import now_ms
from edge_agent.collector.reader import _status_quality
from edge_agent.meters import Meter

logger = logging.getLogger(__name__)

RETRY_SECONDS = 30.0


class CovSubscriptions:
    """One task per subscribed point; sync() follows configuration changes."""

    def __init__(
        self,
        app: Application,
        outbox: Outbox,
        unit_of: Callable[[str, str], str | None] = lambda meter, point: None,
        lifetime: int = 300,
    ):
        self.app = app
        self.outbox = outbox
        self.unit_of = unit_of
        self.lifetime = lifetime
        self.tasks: dict[tuple[str, str], asyncio.Task] = {}
        self.notifications = 0

    def sync(self, meters: list[Meter]) -> None:
        """Subscribe to every enabled `cov` point; drop subscriptions no longer configured."""
        wanted = {(m.id, p.name): (m, p) for m in meters if m.enabled for p in m.data_points if p.cov}
        for key in list(self.tasks):
            if key not in wanted:
                self.tasks.pop(key).cancel()
        for key, (meter, point) in wanted.items():
            if key not in self.tasks:
                self.tasks[key] = asyncio.create_task(self._watch(meter, point))

    async def stop(self) -> None:
        """Cancel every subscription task."""
        for task in self.tasks.values():
            task.cancel()
        for task in self.tasks.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.tasks.clear()

    async def _watch(self, meter: Meter, point: InventoryPoint) -> None:
        while True:
            try:
                await self._subscribe(meter, point)
            except asyncio.CancelledError:
                raise
            except (Exception, ErrorRejectAbortNack) as err:  # bacpypes3 errors are BaseExceptions
                logger.info(
                    "COV on %s/%s failed (%s); retrying in %.0f s", meter.id, point.name, err, RETRY_SECONDS
                )
            await asyncio.sleep(RETRY_SECONDS)

    async def _subscribe(self, meter: Meter, point: InventoryPoint) -> None:
        object_id = ObjectIdentifier(point.object_id)
        quality = Quality.GOOD
        address = Address(meter.address)
        async with self.app.change_of_value(address, object_id, None, False, self.lifetime) as scm:
            logger.info("COV subscribed: %s/%s", meter.id, point.name)
            while True:
                prop, value = await scm.get_value()
                if str(prop) == "status-flags":
                    quality = _status_quality(value)
                elif str(prop) == point.property_id:
                    reading = Reading(
                        meter.id,
                        point.name,
                        now_ms(),
                        float(value),
                        self.unit_of(meter.id, point.name) or point.unit,
                        int(quality),
                    )
                    self.notifications += 1
                    with contextlib.suppress(OutboxFull):
                        await self.outbox.add([reading])
