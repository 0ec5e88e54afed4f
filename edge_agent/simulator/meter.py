"""One simulated meter: a bacpypes3 device with analog inputs for energy, power and electrical values."""

import asyncio
import math
import random
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

from bacpypes3.app import Application
from bacpypes3.basetypes import EngineeringUnits, Reliability, Segmentation
from bacpypes3.errors import AbortOther, ExecutionError
from bacpypes3.local.analog import AnalogInputObject
from bacpypes3.local.binary import BinaryValueObject
from bacpypes3.primitivedata import Real

from edge_agent.bacnet.app import make_application


@dataclass(frozen=True)
class PointSpec:
    """A simulated analog input: name, BACnet units, typical value and whether it accumulates."""

    name: str
    units: str
    base: float
    cumulative: bool = False


# Instance i of analog-input is POINTS[i]; the first two are the design's total_kwh and current_kw.
POINTS = (
    PointSpec("total_kwh", "kilowatt-hours", 1000.0, cumulative=True),
    PointSpec("current_kw", "kilowatts", 40.0),
    PointSpec("voltage_l1", "volts", 230.0),
    PointSpec("voltage_l2", "volts", 230.0),
    PointSpec("voltage_l3", "volts", 230.0),
    PointSpec("current_l1", "amperes", 60.0),
    PointSpec("current_l2", "amperes", 60.0),
    PointSpec("current_l3", "amperes", 60.0),
    PointSpec("power_factor", "no-units", 0.95),
    PointSpec("frequency", "hertz", 50.0),
)

Recorder = Callable[[int, str, float], None]
# What a broken meter serves on its power point, one per read (a good value between): NaN, ±Inf and the
# largest 32-bit REAL (1e300 does not fit a BACnet REAL; this is the largest number that does). Counted per read,
# not per tick: a poll interval that is a multiple of the tick would otherwise see only some of them, or none.
BAD_VALUES = (math.nan, math.inf, -math.inf, 3.4028234663852886e38)


class MeterInput(AnalogInputObject):
    """An analog input that reports each presentValue it serves to the meter's recorder."""

    async def read_property(self, attr, index=None):  # type: ignore[override]
        """Serve the property; remember presentValue reads when recording."""
        value = await super().read_property(attr, index)
        name = self._property_identifier_class(attr).attr if isinstance(attr, int) else attr
        meter = getattr(self, "_meter", None)
        if meter is not None and meter.recorder and name in ("presentValue", "present-value"):
            # Record what went on the wire: presentValue is a 32-bit REAL.
            wire = struct.unpack("<f", struct.pack("<f", float(value)))[0]
            meter.recorder(meter.device_id, self.objectName, wire)
        if meter is not None and meter.bad_values and name in ("presentValue", "present-value"):
            meter.served_power(self)
        return value


class MeterApplication(Application):
    """An Application that can be told to stay silent (a dead meter)."""

    answering: bool = True


RPM_REFUSALS = ("reject", "error", "abort", "silent", "silent-once")


def _refuse_rpm(app: MeterApplication, how: str) -> None:
    """Make the device refuse ReadPropertyMultiple as a whole, the way some small meters and gateways do
    ('silent-once': lose only the first request, as a busy host or network can)."""
    if how not in RPM_REFUSALS:
        raise ValueError(f"unknown RPM refusal {how!r}; choose one of {RPM_REFUSALS}")
    if how == "reject":
        # bacpypes3 answers unrecognized-service (a Reject) when the helper is missing.
        app.do_ReadPropertyMultipleRequest = None
        return

    answer = app.do_ReadPropertyMultipleRequest
    lost: list[bool] = []

    async def refuse(apdu) -> None:
        if how == "silent-once":  # the first request lost (as on a busy host), every later one answered
            if lost:
                return await answer(apdu)
            lost.append(True)
            await asyncio.Future()
        if how == "error":
            raise ExecutionError("services", "service-request-denied")
        if how == "abort":
            raise AbortOther()
        # silent: drop the request (below: the transaction layer still sees it, so no answer goes out)
        await asyncio.Future()

    app.do_ReadPropertyMultipleRequest = refuse


def _answer_slowly(app: MeterApplication, delay: float) -> None:
    """Hold every incoming request `delay` seconds before handling it (a slow gateway)."""
    receive = app.asap.confirmation

    async def confirmation(pdu) -> None:
        await asyncio.sleep(delay)
        await receive(pdu)

    app.asap.confirmation = confirmation


def _silence_when_dead(app: MeterApplication) -> None:
    """Drop incoming packets below the transaction layer while the meter plays dead.

    Dropping them higher up would leave a server transaction open per request, and a client that
    reuses the invoke id (a restarted agent) would then be ignored as a duplicate after revival.
    """
    receive = app.asap.confirmation

    async def confirmation(pdu) -> None:
        if app.answering:
            await receive(pdu)

    app.asap.confirmation = confirmation


class SimulatedMeter:
    """A device with len(points) analog inputs whose values move with time.

    rpm: True, or how ReadPropertyMultiple is refused ("reject", "error", "abort", "silent"; False = reject).
    delay: seconds each request waits before it is handled (a slow device).
    segmentation: False for a device that cannot send segmented answers (large ones are then aborted).
    extra_objects: binary values added after the meter's points (a device with a long object list).
    energy_start: the cumulative registers' first value (default: the point's base, 1000 kWh).
    """

    def __init__(
        self,
        address: str,
        device_id: int,
        name: str,
        n_points: int = 2,
        rpm: bool | str = True,
        recorder: Recorder | None = None,
        delay: float = 0.0,
        segmentation: bool = True,
        extra_objects: int = 0,
        energy_start: float | None = None,
    ) -> None:
        self.address = address
        self.device_id = device_id
        self.name = name
        self.specs = POINTS[: max(1, min(n_points, len(POINTS)))]
        self.recorder = recorder
        self.app = make_application(address, device_id, name, cls=MeterApplication)
        if delay > 0:
            _answer_slowly(self.app, delay)
        _silence_when_dead(self.app)
        if rpm is not True:
            _refuse_rpm(self.app, rpm or "reject")
        if not segmentation:
            self.app.device_object.segmentationSupported = Segmentation.noSegmentation
        for instance in range(extra_objects):
            self.app.add_object(
                BinaryValueObject(
                    objectIdentifier=("binary-value", instance),
                    objectName=f"contact-{instance}",
                    presentValue="inactive",
                )
            )
        self.objects: list[MeterInput] = []
        self.bad_values = False  # True: the power point cycles through BAD_VALUES, one per read
        self._bad_step = 0  # even: the next read serves BAD_VALUES[step // 2]; odd: a good value
        self._power = self.specs[1].base if len(self.specs) > 1 else 40.0
        self._phase = random.random() * math.tau
        self._last = time.monotonic()
        for instance, spec in enumerate(self.specs):
            obj = MeterInput(
                objectIdentifier=("analog-input", instance),
                objectName=spec.name,
                presentValue=Real(spec.base if energy_start is None or not spec.cumulative else energy_start),
                units=EngineeringUnits(spec.units),
                reliability=Reliability.noFaultDetected,
                covIncrement=Real(0.5 if spec.cumulative else 1.0),
                description=f"{spec.name} ({spec.units})",
            )
            obj._meter = self
            self.app.add_object(obj)
            self.objects.append(obj)

    @property
    def answering(self) -> bool:
        """False while the meter plays dead."""
        return self.app.answering

    def set_answering(self, answering: bool) -> None:
        """Make the meter stop answering (False) or come back (True)."""
        self.app.answering = answering

    def reset_counter(self) -> None:
        """Reset cumulative points to zero (a meter replaced or its register cleared)."""
        for obj, spec in zip(self.objects, self.specs, strict=True):
            if spec.cumulative:
                obj.presentValue = Real(0.0)

    def set_fault(self, fault: bool) -> None:
        """Raise or clear the fault status flag on every point (bacpypes3 derives it from reliability)."""
        for obj in self.objects:
            obj.reliability = Reliability.unreliableOther if fault else Reliability.noFaultDetected

    def tick(self) -> None:
        """Advance the values: power wanders around its base, energy integrates it."""
        now = time.monotonic()
        elapsed, self._last = now - self._last, now
        wave = math.sin(now / 30.0 + self._phase)
        power = self.specs[1].base * (1 + 0.2 * wave) if len(self.specs) > 1 else 40.0
        for obj, spec in zip(self.objects, self.specs, strict=True):
            if spec.cumulative:
                obj.presentValue = Real(float(obj.presentValue) + power * elapsed / 3600.0)
            elif spec.name == "current_kw" and self.bad_values:
                self._power = power
                self._serve_next(obj)
            elif spec.name == "current_kw":
                obj.presentValue = Real(power)
            else:
                obj.presentValue = Real(spec.base * (1 + 0.01 * wave))

    def served_power(self, obj: MeterInput) -> None:
        """Step the power point's bad-value cycle after one of its reads."""
        if obj.objectName == "current_kw":
            self._bad_step = (self._bad_step + 1) % (2 * len(BAD_VALUES))
            self._serve_next(obj)

    def _serve_next(self, obj: MeterInput) -> None:
        bad = self._bad_step % 2 == 0
        obj.presentValue = Real(BAD_VALUES[self._bad_step // 2] if bad else self._power)

    def close(self) -> None:
        """Release the UDP socket."""
        self.app.close()
