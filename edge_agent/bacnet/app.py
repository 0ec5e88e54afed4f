"""Build bacpypes3 applications bound to one explicit address (never the wildcard interface)."""

import ipaddress
from argparse import Namespace

from bacpypes3.app import Application

VENDOR_ID = 999  # the ASHRAE "test" vendor used by bacpypes3 samples


def check_loopback_safe(address: str) -> None:
    """Refuse wildcard and global-broadcast binds (a BACnet app there would broadcast to the LAN)."""
    host = address.split("/")[0].split(":")[0]
    if host in ("0.0.0.0", "255.255.255.255", "", "host"):
        raise ValueError(f"refusing to bind BACnet to {address!r}: give an explicit interface address")
    ipaddress.ip_address(host)


def with_port(interface: str, port: int) -> str:
    """'127.0.0.1/8' + 47809 -> '127.0.0.1/8:47809' (bacpypes3's address syntax)."""
    return f"{interface}:{port}"


def make_application(
    address: str,
    device_id: int,
    name: str,
    cls: type[Application] = Application,
    apdu_timeout_ms: int | None = None,
    apdu_retries: int | None = None,
) -> Application:
    """An Application with a device object at address (e.g. '127.0.0.10/8:47808'); call in a running loop."""
    check_loopback_safe(address)
    args = Namespace(
        name=name,
        instance=device_id,
        network=0,
        address=address,
        vendoridentifier=VENDOR_ID,
        foreign=None,
        ttl=30,
        bbmd=None,
    )
    app = cls.from_args(args)
    if apdu_timeout_ms is not None:
        app.device_object.apduTimeout = apdu_timeout_ms
    if apdu_retries is not None:
        app.device_object.numberOfApduRetries = apdu_retries
    return app
