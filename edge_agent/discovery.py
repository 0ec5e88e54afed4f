"""Find BACnet devices and list their objects with names and units.

Who-Is goes unicast to each address of a range or to known meter addresses (works from any local port, since
the devices answer to the port the request came from), or to a broadcast address (BACNET_BROADCAST_ADDRESS
on port 47808, or `N:*` for every device of BACnet network N behind a router), optionally limited to a
device-instance range. Object lists too big for one answer are read element by element.
"""

import asyncio
import ipaddress
import logging
import re

from bacpypes3.apdu import ErrorRejectAbortNack, IAmRequest, WhoIsRequest
from bacpypes3.app import Application
from bacpypes3.pdu import Address
from bacpypes3.service.device import WhoIsFuture

from edge_agent.errors import ConfigError
from edge_agent.meters import MeterConfig
from edge_agent.models import DiscoveredDevice, DiscoveredObject

logger = logging.getLogger(__name__)

POINT_TYPES = ("analog-input", "analog-value", "analog-output", "accumulator")
MAX_RANGE = 1024


def parse_range(address_range: str) -> list[str]:
    """'127.0.0.10-127.0.0.20', '127.0.0.10-20' or one address -> the list of addresses."""
    first, _, last = address_range.strip().partition("-")
    try:
        start = ipaddress.ip_address(first.strip())
        if not last:
            end = start
        elif "." in last:
            end = ipaddress.ip_address(last.strip())
        else:
            end = ipaddress.ip_address(str(start).rsplit(".", 1)[0] + "." + last.strip())
    except ValueError as err:
        raise ConfigError(f"bad address range {address_range!r}: {err}") from err
    count = int(end) - int(start) + 1
    if count < 1 or count > MAX_RANGE:
        raise ConfigError(f"address range must hold 1..{MAX_RANGE} addresses, not {count}")
    return [str(start + i) for i in range(count)]


INDEX_READS_AT_ONCE = 8


async def _who_is(
    app: Application, address: str, timeout: float, low: int | None = None, high: int | None = None
) -> list[IAmRequest]:
    try:
        answer = app.who_is(low, high, address=Address(address), timeout=timeout)
        return await asyncio.wait_for(answer, timeout + 1)
    except (TimeoutError, ErrorRejectAbortNack):
        return []


async def who_is_broadcast(
    app: Application, destination: str, timeout: float, low: int | None = None, high: int | None = None
) -> list[IAmRequest]:
    """Every I-Am answering a Who-Is sent to a broadcast address ('x.y.z.255:47808', 'N:*') within timeout.

    bacpypes3's own who_is() broadcasts only to the application's own port, and filters answers by the
    destination when given one; here the request goes where it is told and every answer is collected.
    """
    if not hasattr(app, "_who_is_futures"):
        app._who_is_futures = []
    collector = WhoIsFuture(app, None, low, high, timeout)
    collector.only_one = False
    app._who_is_futures.append(collector)
    request = WhoIsRequest(destination=Address(destination))
    if low is not None and high is not None:
        request.deviceInstanceRangeLowLimit, request.deviceInstanceRangeHighLimit = low, high
    app.request(request)
    return await collector.future


async def _object_props(app: Application, address: str, object_id: str, timeout: float) -> dict:
    """object-name, units and present-value of one object: RPM, or ReadProperty when RPM is refused."""
    wanted = ["object-name", "units", "present-value"]
    try:
        answer = await asyncio.wait_for(app.read_property_multiple(address, [object_id, wanted]), timeout)
        return {str(prop): value for _obj, prop, _index, value in answer}
    except ErrorRejectAbortNack:
        props = {}
        for prop in wanted:
            try:
                value = await asyncio.wait_for(app.read_property(address, object_id, prop), timeout)
            except ErrorRejectAbortNack:
                continue
            if not isinstance(value, ErrorRejectAbortNack):
                props[prop] = value
        return props


async def read_object_list(app: Application, address: str, device_id: int, timeout: float) -> list:
    """The device's object list: whole when the device can send it, else element by element."""
    device = f"device,{device_id}"
    try:
        whole = await asyncio.wait_for(app.read_property(address, device, "object-list"), timeout)
    except ErrorRejectAbortNack as err:
        logger.info("%s: object list not sent whole (%s); reading it by index", address, err)
    else:
        if not isinstance(whole, ErrorRejectAbortNack):
            return list(whole)
    length = int(await asyncio.wait_for(app.read_property(address, device, "object-list", 0), timeout))
    slots = asyncio.Semaphore(INDEX_READS_AT_ONCE)

    async def element(index: int):
        async with slots:
            return await asyncio.wait_for(app.read_property(address, device, "object-list", index), timeout)

    return list(await asyncio.gather(*(element(i) for i in range(1, length + 1))))


async def _objects(app: Application, address: str, device_id: int, timeout: float) -> list[DiscoveredObject]:
    object_list = await read_object_list(app, address, device_id, timeout)
    found = []
    for object_id in object_list:
        object_type, instance = str(object_id[0]), int(object_id[1])
        if object_type not in POINT_TYPES:
            continue
        props = await _object_props(app, address, f"{object_type},{instance}", timeout)
        units = props.get("units")
        value = props.get("present-value")
        found.append(
            DiscoveredObject(
                object_type=object_type,
                instance=instance,
                name=str(props.get("object-name") or f"{object_type}-{instance}"),
                units=str(units) if units is not None and not hasattr(units, "errorCode") else None,
                present_value=float(value) if isinstance(value, int | float) else None,
            )
        )
    return found


async def discover(
    app: Application,
    addresses: list[str],
    timeout: float = 2.0,
    broadcasts: list[str] = (),
    low: int | None = None,
    high: int | None = None,
) -> list[DiscoveredDevice]:
    """Devices answering Who-Is at these addresses or broadcasts (instances low..high), with analog objects.

    A device that answers Who-Is but not reads is skipped (logged); one found twice is listed once.
    """
    unicast = asyncio.gather(*(_who_is(app, a, timeout, low, high) for a in addresses))
    broadcast = asyncio.gather(*(who_is_broadcast(app, b, timeout, low, high) for b in broadcasts))
    answers, broadcast_answers = await asyncio.gather(unicast, broadcast)
    found: dict[int, str] = {}
    for address, i_ams in zip(addresses, answers, strict=True):
        for i_am in i_ams:
            found.setdefault(int(i_am.iAmDeviceIdentifier[1]), address)
    for i_ams in broadcast_answers:
        for i_am in i_ams:
            found.setdefault(int(i_am.iAmDeviceIdentifier[1]), str(i_am.pduSource))
    devices = []
    for device_id, address in sorted(found.items()):
        try:
            name = await asyncio.wait_for(
                app.read_property(address, f"device,{device_id}", "object-name"), timeout
            )
            objects = await _objects(app, address, device_id, timeout)
        except (TimeoutError, ErrorRejectAbortNack) as err:
            logger.warning("device %d at %s answered Who-Is but not reads: %s", device_id, address, err)
            continue
        devices.append(
            DiscoveredDevice(address=address, device_id=device_id, name=str(name), objects=objects)
        )
    logger.info(
        "discovery over %d addresses and %d broadcasts found %d devices",
        len(addresses),
        len(broadcasts),
        len(devices),
    )
    return devices


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "point"


def to_meter_configs(devices: list[DiscoveredDevice]) -> list[MeterConfig]:
    """A starting meters.json from discovered devices (one meter per device, one point per analog object)."""
    meters = []
    for device in devices:
        points = []
        for obj in device.objects:
            points.append(
                {
                    "name": _slug(obj.name),
                    "object_type": obj.object_type,
                    "instance": obj.instance,
                    "property": "present-value",
                    "unit": obj.units,
                    "cumulative": (obj.units or "").endswith("watt-hours"),
                }
            )
        meters.append(
            MeterConfig(
                id=f"meter-{device.device_id}",
                name=device.name,
                bacnet_device_id=device.device_id,
                bacnet_ip=device.address,
                data_points=points,
            )
        )
    return meters
