"""Read one device's points the way that device accepts: RPM in batches it can take, else ReadProperty.

Every request goes through `_request`, which applies what was learnt about the device (timeout, retries,
requests at once, gap between them) and learns from the outcome. A device that refuses ReadPropertyMultiple
as a whole (reject, error or abort for the request) is read point by point from then on; a device is dead
only when it answers nothing; a point that errors is a point error.

bacpypes3's ErrorPDU/RejectPDU/AbortPDU derive from ErrorRejectAbortNack, a BaseException: they are caught
explicitly here and turned into edge_agent.errors types, so nothing above needs to know about them.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache

from bacpypes3.apdu import AbortPDU, ErrorRejectAbortNack, RejectPDU
from bacpypes3.app import Application
from bacpypes3.basetypes import ErrorType, PropertyIdentifier, PropertyReference
from bacpypes3.pdu import Address
from bacpypes3.primitivedata import ObjectIdentifier

from db.inventory import InventoryPoint
from db.wire import Quality, quality_from_status_flags
from edge_agent import metrics
from edge_agent.bacnet.tuning import DeviceTuning
from edge_agent.collector.profile import DeviceProfile
from edge_agent.errors import BacnetError, DeviceRefused, DeviceTimeout
from edge_agent.meters import Meter

logger = logging.getLogger(__name__)

# Refusals that mean "this request was too big for the device": halve the RPM batch and try again.
TOO_BIG = {"segmentation-not-supported", "buffer-overflow", "apdu-too-long"}
# Refusals that mean "the device is busy": fewer requests at once, then a gap, and try again.
BUSY = {"out-of-resources", "preempted-by-higher-priority-task"}


@lru_cache(maxsize=65536)
def parsed_address(text: str) -> Address | str:
    """The device address parsed once (bacpypes3 parses a string on every request)."""
    try:
        return Address(text)
    except Exception:  # noqa: BLE001  (left as text: bacpypes3 parses it, and says why it cannot)
        return text


@lru_cache(maxsize=65536)
def parsed_object(text: str) -> ObjectIdentifier | str:
    """'analog-input,0' as an ObjectIdentifier, parsed once (it was ~40% of the agent's CPU per request)."""
    try:
        return ObjectIdentifier(text)
    except Exception:  # noqa: BLE001  (a vendor's type name: left to bacpypes3's parser with vendor info)
        return text


@lru_cache(maxsize=1024)
def parsed_property(text: str) -> PropertyReference | str:
    """'present-value' as a PropertyReference, built once; an array index ('[3]') is left to bacpypes3."""
    if "[" in text:
        return text
    try:
        return PropertyReference(propertyIdentifier=PropertyIdentifier(text))
    except Exception:  # noqa: BLE001
        return text


@dataclass
class PointValue:
    """A value read from the device, with the unit and quality the device reported."""

    point: InventoryPoint
    value: float
    unit: str | None
    quality: Quality


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
    refused.reason = f"{reason} {err}"  # type: ignore[attr-defined]
    return refused


def _reason(err: DeviceRefused) -> str:
    return getattr(err, "reason", str(err))


async def _request(
    tuning: DeviceTuning,
    meter: Meter,
    profile: DeviceProfile,
    send: Callable[[], Awaitable],
    attempts: int | None = None,
):
    """One confirmed request with the device's learnt timeout, retries and slot; learns from the outcome."""
    if attempts is None:
        attempts = 1 + (0 if profile.silent else profile.retries)
    last: BacnetError = DeviceTimeout("no answer")
    for attempt in range(attempts):
        async with profile.limiter.slot():
            used = profile.attempt_timeout()
            tuning.set(meter.address, used, 0)
            started = time.monotonic()
            try:
                result = await _guarded(send(), used)
            except DeviceTimeout as err:
                last = err
                final = attempt == attempts - 1
                # A longer wait is tried on the next attempt (a silent device gets one attempt per poll).
                if final or profile.silent or not profile.timed_out(used):
                    break
                continue
            except DeviceRefused as err:
                if not any(busy in _reason(err) for busy in BUSY):
                    raise
                last = err
                profile.overloaded()
                logger.info(
                    "%s: device busy (%s); now %d requests at once, gap %.2f s",
                    meter.id,
                    err,
                    profile.max_outstanding,
                    profile.gap,
                )
                continue
        profile.answered(time.monotonic() - started)
        return result
    raise last


def _status_quality(flags) -> Quality:
    bits = list(flags) + [0, 0, 0, 0]
    return quality_from_status_flags(bool(bits[0]), bool(bits[1]), bool(bits[2]), bool(bits[3]))


# A finite value beyond this is no meter reading (a REAL can carry 3.4e38): kept, marked bad.
MAX_PLAUSIBLE = 1e15


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


def _refuse_not_finite(meter_id: str, point: str, raw: object) -> None:
    """Count and log one served value that is no finite number (NaN, ±Inf): refused with its reason."""
    metrics.VALUES_REFUSED.labels("not_finite").inc()
    logger.warning("meter %s point %s served %s: not a finite number, refused", meter_id, point, raw)


async def read_rpm(
    app: Application,
    tuning: DeviceTuning,
    meter: Meter,
    points: list[InventoryPoint],
    profile: DeviceProfile,
) -> tuple[list[PointValue], dict[str, str]]:
    """Read points with RPM (value, status flags, units when unknown); returns values and per-point errors."""
    values: list[PointValue] = []
    errors: dict[str, str] = {}
    for start in range(0, len(points), profile.points_per_request):
        chunk = points[start : start + profile.points_per_request]
        request: list = []
        for point in chunk:
            props = [parsed_property(point.property_id), parsed_property("status-flags")]
            if point.name not in profile.units:
                props.append(parsed_property("units"))
            request += [parsed_object(point.object_id), props]
        address = parsed_address(meter.address)
        answer = await _request(
            tuning, meter, profile, lambda r=request, a=address: app.read_property_multiple(a, r)
        )
        by_object: dict[tuple, dict[str, object]] = {}
        for object_id, prop, _index, value in answer:
            by_object.setdefault((str(object_id[0]), int(object_id[1])), {})[str(prop)] = value
        for point in chunk:
            props = by_object.get((kebab_type(point), point.instance), {})
            _collect(point, props, profile, values, errors, meter.id)
    return values, errors


def kebab_type(point: InventoryPoint) -> str:
    """The object type as bacpypes3 prints it ('analog-input')."""
    return point.object_id.split(",")[0]


def _collect(
    point, props: dict, profile: DeviceProfile, values: list, errors: dict, meter_id: str = "?"
) -> None:
    raw = props.get(point.property_id)
    if "units" in props and not isinstance(props["units"], ErrorType):
        profile.units[point.name] = str(props["units"])
    elif "units" in props:
        profile.units[point.name] = None
    number = None if raw is None or isinstance(raw, ErrorType) else _number(raw)
    if number is None and isinstance(raw, float):
        _refuse_not_finite(meter_id, point.name, raw)
    if number is None:
        errors[point.name] = f"no numeric {point.property_id} ({getattr(raw, 'errorCode', raw)})"
        return
    flags = props.get("status-flags")
    quality = Quality.GOOD if flags is None or isinstance(flags, ErrorType) else _status_quality(flags)
    if abs(number) > MAX_PLAUSIBLE:
        metrics.VALUES_REFUSED.labels("implausible_kept_bad").inc()
        logger.warning(
            "meter %s point %s served %r: implausible, kept with bad quality", meter_id, point.name, number
        )
        quality = Quality.BAD
    values.append(PointValue(point, number, profile.units.get(point.name) or point.unit, quality))


async def read_rp(
    app: Application,
    tuning: DeviceTuning,
    meter: Meter,
    points: list[InventoryPoint],
    profile: DeviceProfile,
) -> tuple[list[PointValue], dict[str, str]]:
    """Read points one ReadProperty at a time (as many at once as the device takes)."""

    def read(point: InventoryPoint, prop: str):
        return _request(
            tuning, meter, profile, lambda: app.read_property(meter.address, point.object_id, prop)
        )

    async def one(point: InventoryPoint) -> dict:
        props: dict = {point.property_id: await read(point, point.property_id)}
        try:
            props["status-flags"] = await read(point, "status-flags")
            if point.name not in profile.units:
                props["units"] = await read(point, "units")
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
            _collect(point, result, profile, values, errors, meter.id)
    if timeouts == len(points):
        raise DeviceTimeout(f"no answer within {profile.timeout:g} s")
    return values, errors


async def _answers_rp(app: Application, tuning: DeviceTuning, meter: Meter, profile: DeviceProfile) -> bool:
    """Whether the device answers a ReadProperty (some devices drop RPM silently instead of refusing it)."""
    point = meter.data_points[0]
    try:
        await _request(
            tuning,
            meter,
            profile,
            lambda: app.read_property(meter.address, point.object_id, point.property_id),
            attempts=1,
        )
    except DeviceTimeout:
        return False
    except DeviceRefused:
        return True
    return True


async def read_device(
    app: Application, tuning: DeviceTuning, meter: Meter, profile: DeviceProfile
) -> tuple[list[PointValue], dict[str, str]]:
    """Read every point of a meter, learning on the way whether the device takes RPM and how big."""
    if profile.silent:
        profile.silent_polls += 1
    if profile.reprobe_due():
        logger.info("%s: re-probing the device (RPM, batch size, timeout, requests at once)", meter.id)
    points = meter.data_points
    try:
        while profile.rpm:
            try:
                values, errors = await read_rpm(app, tuning, meter, points, profile)
            except DeviceRefused as err:
                reason = _reason(err)
                if any(too_big in reason for too_big in TOO_BIG) and profile.shrink_batch():
                    logger.info(
                        "%s: RPM too big (%s), now %d points per request",
                        meter.id,
                        err,
                        profile.points_per_request,
                    )
                    continue
                profile.refuse_rpm()
                logger.info("%s: device refuses ReadPropertyMultiple (%s); using ReadProperty", meter.id, err)
            except DeviceTimeout:
                if profile.rpm_confirmed or profile.silent:
                    raise
                profile.went_silent()
                if not await _answers_rp(app, tuning, meter, profile):
                    raise
                if not profile.rpm_lost_once:
                    # one lost RPM proves nothing on a busy host or network: ask again before giving RPM up
                    profile.rpm_lost_once = True
                    logger.info(
                        "%s: ReadPropertyMultiple unanswered once, ReadProperty answered; asking again",
                        meter.id,
                    )
                    continue
                profile.refuse_rpm()
                logger.info("%s: device ignores ReadPropertyMultiple; using ReadProperty", meter.id)
            else:
                profile.rpm_confirmed = True
                return values, errors
        return await read_rp(app, tuning, meter, points, profile)
    except DeviceTimeout:
        profile.went_silent()
        raise
