"""Read one device's points: ReadPropertyMultiple in as few requests as the device accepts, else ReadProperty.

bacpypes3's ErrorPDU/RejectPDU/AbortPDU derive from ErrorRejectAbortNack, a BaseException: they are caught
explicitly here and turned into edge_agent.errors types, so nothing above needs to know about them.
"""

import asyncio
import logging
from dataclasses import dataclass, field

from bacpypes3.apdu import AbortPDU, ErrorRejectAbortNack, RejectPDU
from bacpypes3.app import Application
from bacpypes3.basetypes import ErrorType

from db.wire import Quality, quality_from_status_flags
from edge_agent.errors import BacnetError, DeviceRefused, DeviceTimeout
from edge_agent.meters import DataPointConfig, MeterConfig

logger = logging.getLogger(__name__)

# Rejects/aborts that mean "this device does not do RPM (or not this big)" rather than "device is broken".
RPM_REFUSALS = {"unrecognized-service", "segmentation-not-supported", "buffer-overflow", "apdu-too-long"}


@dataclass
class PointValue:
    """A value read from the device, with the unit and quality the device reported."""

    point: DataPointConfig
    value: float
    unit: str | None
    quality: Quality


@dataclass
class DeviceProfile:
    """What we learnt about a device: whether it takes RPM, how many points per request, units."""

    rpm: bool = True
    points_per_request: int = 64
    units: dict[str, str | None] = field(default_factory=dict)


def _consume(task: asyncio.Task) -> None:
    if not task.cancelled():
        task.exception()


async def _guarded(coro, timeout: float):
    """Await a bacpypes3 request with a timeout, mapping its errors to edge errors."""
    # The request is shielded: cancelling it would leave bacpypes3 to resolve a cancelled future later
    # (InvalidStateError). On our timeout it runs on until its own APDU timeout and is then discarded.
    task = asyncio.ensure_future(coro)
    task.add_done_callback(_consume)
    try:
        result = await asyncio.wait_for(asyncio.shield(task), timeout * 1.5 + 0.5)
    except TimeoutError as err:
        raise DeviceTimeout(f"no answer within {timeout:g} s") from err
    except ErrorRejectAbortNack as err:
        raise _refusal(err) from None
    if isinstance(result, ErrorRejectAbortNack):
        raise _refusal(result)
    return result


def _refusal(err: BaseException) -> BacnetError:
    reason = str(getattr(err, "apduAbortRejectReason", None) or getattr(err, "errorCode", None) or err)
    if isinstance(err, AbortPDU) and "no-response" in str(err):
        return DeviceTimeout("no answer (no-response)")
    kind = "reject" if isinstance(err, RejectPDU) else "abort" if isinstance(err, AbortPDU) else "error"
    refused = DeviceRefused(f"{kind}: {reason}")
    refused.reason = str(err)  # type: ignore[attr-defined]
    return refused


def _status_quality(flags) -> Quality:
    bits = list(flags) + [0, 0, 0, 0]
    return quality_from_status_flags(bool(bits[0]), bool(bits[1]), bool(bits[2]), bool(bits[3]))


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


async def read_rpm(
    app: Application,
    meter: MeterConfig,
    points: list[DataPointConfig],
    profile: DeviceProfile,
    timeout: float,
) -> tuple[list[PointValue], dict[str, str]]:
    """Read points with RPM (value, status flags, units when unknown); returns values and per-point errors."""
    values: list[PointValue] = []
    errors: dict[str, str] = {}
    for start in range(0, len(points), profile.points_per_request):
        chunk = points[start : start + profile.points_per_request]
        request: list = []
        for point in chunk:
            props = [point.property_id, "status-flags"]
            if point.name not in profile.units:
                props.append("units")
            request += [point.object_id, props]
        answer = await _guarded(app.read_property_multiple(meter.address, request), timeout)
        by_object: dict[tuple, dict[str, object]] = {}
        for object_id, prop, _index, value in answer:
            by_object.setdefault((str(object_id[0]), int(object_id[1])), {})[str(prop)] = value
        for point in chunk:
            props = by_object.get((kebab_type(point), point.instance), {})
            _collect(point, props, profile, values, errors)
    return values, errors


def kebab_type(point: DataPointConfig) -> str:
    """The object type as bacpypes3 prints it ('analog-input')."""
    return point.object_id.split(",")[0]


def _collect(point, props: dict, profile: DeviceProfile, values: list, errors: dict) -> None:
    raw = props.get(point.property_id)
    if "units" in props and not isinstance(props["units"], ErrorType):
        profile.units[point.name] = str(props["units"])
    elif "units" in props:
        profile.units[point.name] = None
    number = None if raw is None or isinstance(raw, ErrorType) else _number(raw)
    if number is None:
        errors[point.name] = f"no numeric {point.property_id} ({getattr(raw, 'errorCode', raw)})"
        return
    flags = props.get("status-flags")
    quality = Quality.GOOD if flags is None or isinstance(flags, ErrorType) else _status_quality(flags)
    values.append(PointValue(point, number, profile.units.get(point.name) or point.unit, quality))


async def read_rp(
    app: Application,
    meter: MeterConfig,
    points: list[DataPointConfig],
    profile: DeviceProfile,
    timeout: float,
    semaphore: asyncio.Semaphore,
) -> tuple[list[PointValue], dict[str, str]]:
    """Read points one ReadProperty at a time (concurrency capped by the device's semaphore)."""

    async def one(point: DataPointConfig) -> dict:
        props: dict = {}
        async with semaphore:
            props[point.property_id] = await _guarded(
                app.read_property(meter.address, point.object_id, point.property_id), timeout
            )
            try:
                props["status-flags"] = await _guarded(
                    app.read_property(meter.address, point.object_id, "status-flags"), timeout
                )
                if point.name not in profile.units:
                    props["units"] = await _guarded(
                        app.read_property(meter.address, point.object_id, "units"), timeout
                    )
            except DeviceRefused:
                pass  # optional properties: the value alone is still a reading
        return props

    values: list[PointValue] = []
    errors: dict[str, str] = {}
    results = await asyncio.gather(*(one(p) for p in points), return_exceptions=True)
    timeouts = 0
    for point, result in zip(points, results, strict=True):
        if isinstance(result, DeviceTimeout):
            timeouts += 1
            errors[point.name] = str(result)
        elif isinstance(result, BacnetError):
            errors[point.name] = str(result)
        elif isinstance(result, BaseException):
            raise result
        else:
            _collect(point, result, profile, values, errors)
    if timeouts == len(points):
        raise DeviceTimeout(f"no answer within {timeout:g} s")
    return values, errors


async def read_device(
    app: Application, meter: MeterConfig, profile: DeviceProfile, timeout: float, semaphore: asyncio.Semaphore
) -> tuple[list[PointValue], dict[str, str]]:
    """Read every point of a meter, learning on the way whether the device takes RPM and how big."""
    points = meter.data_points
    while profile.rpm:
        try:
            async with semaphore:
                return await read_rpm(app, meter, points, profile, timeout)
        except DeviceRefused as err:
            reason = getattr(err, "reason", str(err))
            if not any(refusal in reason for refusal in RPM_REFUSALS):
                raise
            if profile.points_per_request > 1 and "unrecognized-service" not in reason:
                profile.points_per_request = max(1, profile.points_per_request // 2)
                logger.info(
                    "%s: RPM too big (%s), now %d points per request",
                    meter.id,
                    reason,
                    profile.points_per_request,
                )
            else:
                profile.rpm = False
                logger.info(
                    "%s: device refuses ReadPropertyMultiple (%s); using ReadProperty", meter.id, reason
                )
    return await read_rp(app, meter, points, profile, timeout, semaphore)
