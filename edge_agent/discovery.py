"""Find BACnet devices in an address range (unicast Who-Is to each) and list their objects with names and units."""

import asyncio
import ipaddress
import logging
import re

from bacpypes3.apdu import ErrorRejectAbortNack
from bacpypes3.app import Application
from bacpypes3.pdu import Address

from edge_agent.errors import ConfigError
from edge_agent.meters import MeterConfig, camel
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


async def _who_is(app: Application, address: str, timeout: float) -> list:
    try:
        return await asyncio.wait_for(app.who_is(address=Address(address), timeout=timeout), timeout + 1)
    except (TimeoutError, ErrorRejectAbortNack):
        return []


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


async def _objects(app: Application, address: str, device_id: int, timeout: float) -> list[DiscoveredObject]:
    object_list = await asyncio.wait_for(
        app.read_property(address, f"device,{device_id}", "object-list"), timeout
    )
    if isinstance(object_list, ErrorRejectAbortNack):
        return []
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


async def discover(app: Application, addresses: list[str], timeout: float = 2.0) -> list[DiscoveredDevice]:
    """Devices answering at these addresses, each with its analog objects (a device that fails is skipped)."""
    answers = await asyncio.gather(*(_who_is(app, a, timeout) for a in addresses))
    devices = []
    for address, i_ams in zip(addresses, answers, strict=True):
        for i_am in i_ams:
            device_id = int(i_am.iAmDeviceIdentifier[1])
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
    logger.info("discovery over %d addresses found %d devices", len(addresses), len(devices))
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
                    "object_type": camel(obj.object_type),
                    "instance": obj.instance,
                    "property": "presentValue",
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
