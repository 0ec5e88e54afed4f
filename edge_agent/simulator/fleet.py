"""A fleet of simulated meters on consecutive loopback addresses, with a control API and a served-values record."""

import asyncio
import contextlib
import ipaddress
import json
import logging
from datetime import datetime
from typing import TextIO

from db.clock import utcnow
from edge_agent.simulator.meter import POINTS, SimulatedMeter

logger = logging.getLogger(__name__)

METER_PORT = 47808
DEVICE_ID_BASE = 100_000


def meter_address(base_address: str, index: int) -> str:
    """The IP of meter number index (0-based) counting up from base_address."""
    address = ipaddress.ip_address(base_address) + index
    if not address.is_loopback:
        raise ValueError(f"simulated meters stay on loopback; {address} is not")
    return str(address)


def meter_external_id(index: int) -> str:
    """External id of simulated meter number index (0-based): meter-001, meter-002, ..."""
    return f"meter-{index + 1:03d}"


class SimulatorFleet:
    """N simulated meters; start() binds them, control methods act on one meter by external id."""

    def __init__(
        self,
        meters: int,
        base_address: str = "127.0.0.10",
        points: int = 2,
        port: int = METER_PORT,
        device_id_base: int = DEVICE_ID_BASE,
        no_rpm: set[int] | dict[int, str] | None = None,
        slow: dict[int, float] | None = None,
        record: bool = False,
        record_file: str | None = None,
        tick_seconds: float = 1.0,
        prefix: int = 8,
        bad_values: set[int] | None = None,
        energy_start: float | None = None,
        first: int = 0,
    ) -> None:
        self.count = meters
        # index of this fleet's first meter in a larger one spread over several processes: addresses, device
        # ids and external ids count on from there (no_rpm, slow and bad_values stay indexes of this fleet)
        self.first = first
        self.prefix = prefix  # the meters' subnet: /8 on plain loopback, e.g. /24 in a test's namespace
        self.base_address = base_address
        self.points = points
        self.port = port
        self.device_id_base = device_id_base
        # index -> how RPM is refused ("reject" for a plain set), index -> seconds per answer
        self.no_rpm = no_rpm if isinstance(no_rpm, dict) else dict.fromkeys(no_rpm or (), "reject")
        self.slow = slow or {}
        self.tick_seconds = tick_seconds
        self.bad_values = bad_values or set()  # indexes of meters that serve BAD_VALUES on their power point
        self.energy_start = energy_start
        self.meters: dict[str, SimulatedMeter] = {}
        self.served: list[tuple[int, str, float, datetime]] = []
        self._record = record or bool(record_file)
        self._record_path = record_file
        self._record_file: TextIO | None = None
        self._ticker: asyncio.Task | None = None

    def _recorder(self, device_id: int, point: str, value: float) -> None:
        at = utcnow()
        self.served.append((device_id, point, value, at))
        if self._record_file:
            line = {"device_id": device_id, "point": point, "value": value, "served_at": at.isoformat()}
            self._record_file.write(json.dumps(line) + "\n")
            self._record_file.flush()

    async def start(self) -> None:
        """Bind every meter (call inside the running loop) and start the value ticker."""
        if self._record_path:
            self._record_file = open(self._record_path, "a", encoding="utf-8")  # noqa: SIM115
        for index in range(self.count):
            ip = meter_address(self.base_address, self.first + index)
            external_id = meter_external_id(self.first + index)
            self.meters[external_id] = SimulatedMeter(
                f"{ip}/{self.prefix}:{self.port}",
                self.device_id_base + self.first + index + 1,
                f"Simulated meter {self.first + index + 1}",
                n_points=self.points,
                rpm=self.no_rpm.get(index, True),
                recorder=self._recorder if self._record else None,
                delay=self.slow.get(index, 0.0),
                energy_start=self.energy_start,
            )
            self.meters[external_id].bad_values = index in self.bad_values
        self._ticker = asyncio.create_task(self._tick_forever())
        logger.info(
            "simulating %d meters on %s.. port %d (%d points each)",
            self.count,
            meter_address(self.base_address, self.first),
            self.port,
            self.points,
        )

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(self.tick_seconds)
            for meter in self.meters.values():
                meter.tick()

    async def stop(self) -> None:
        """Stop the ticker and release every socket."""
        if self._ticker:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        for meter in self.meters.values():
            meter.close()
        self.meters.clear()
        if self._record_file:
            self._record_file.close()
            self._record_file = None

    async def __aenter__(self) -> "SimulatorFleet":
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    def meter(self, external_id: str) -> SimulatedMeter:
        """The meter with this external id (KeyError names the known ones)."""
        try:
            return self.meters[external_id]
        except KeyError:
            raise KeyError(f"no simulated meter {external_id!r}; have {sorted(self.meters)}") from None

    def kill(self, external_id: str) -> None:
        """Make one meter stop answering."""
        self.meter(external_id).set_answering(False)
        logger.info("meter %s stopped answering", external_id)

    def revive(self, external_id: str) -> None:
        """Make a silent meter answer again."""
        self.meter(external_id).set_answering(True)
        logger.info("meter %s answers again", external_id)

    def reset(self, external_id: str) -> None:
        """Reset one meter's energy counter to zero."""
        self.meter(external_id).reset_counter()
        logger.info("meter %s counter reset", external_id)

    def fault(self, external_id: str, on: bool = True) -> None:
        """Set or clear one meter's fault status flag."""
        self.meter(external_id).set_fault(on)

    def meters_config(self) -> dict:
        """A meters.json document describing this fleet (the design's format); no need to start it first."""
        suffix = "" if self.port == METER_PORT else f":{self.port}"
        specs = POINTS[: max(1, min(self.points, len(POINTS)))]
        points = [
            {
                "object_type": "analog-input", "instance": i, "property": "present-value", "name": spec.name,
                "unit": spec.units, "cumulative": spec.cumulative,
            }
            for i, spec in enumerate(specs)
        ]  # fmt: skip
        return {
            "meters": [
                {
                    "id": meter_external_id(index),
                    "name": f"Simulated meter {index + 1}",
                    "bacnet_device_id": self.device_id_base + index + 1,
                    "bacnet_ip": meter_address(self.base_address, index) + suffix,
                    "data_points": points,
                }
                for index in range(self.first, self.first + self.count)
            ]
        }
