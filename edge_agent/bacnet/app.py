"""Build bacpypes3 applications bound to one explicit address (never the wildcard interface)."""

import asyncio
import errno
import ipaddress
import socket
from argparse import Namespace

from bacpypes3.app import Application
from bacpypes3.pdu import Address

from edge_agent.bacnet import speedups
from edge_agent.errors import BacnetPortInUse

speedups.install()

VENDOR_ID = 999  # the ASHRAE "test" vendor used by bacpypes3 samples


def check_loopback_safe(address: str) -> None:
    """Refuse wildcard and global-broadcast binds (a BACnet app there would broadcast to the LAN)."""
    host = address.split("/")[0].split(":")[0]
    if host in ("0.0.0.0", "255.255.255.255", "", "host"):
        raise ValueError(f"refusing to bind BACnet to {address!r}: give an explicit interface address")
    ipaddress.ip_address(host)


def _host_port(address: str) -> tuple[str, int, str]:
    """'127.0.0.1/8:47808' -> ('127.0.0.1', 47808, '8')."""
    host_prefix, _, port = address.rpartition(":")
    host, _, prefix = host_prefix.partition("/")
    return host, int(port), prefix


def check_port_free(address: str) -> None:
    """Fail clearly when another process holds the BACnet UDP port (bacpypes3 would retry binding forever).

    The unicast address is tried exclusively; the subnet broadcast address (which every BACnet application
    of this subnet binds with SO_REUSEPORT) is tried with SO_REUSEPORT, so another bacpypes3 application
    there is fine and only an exclusive holder (another BACnet stack) is reported.
    """
    host, port, prefix = _host_port(address)
    targets = [(host, False)]
    if prefix:
        network = ipaddress.ip_network(f"{host}/{prefix}", strict=False)
        if network.broadcast_address != ipaddress.ip_address(host):
            targets.append((str(network.broadcast_address), True))
    for target, shared in targets:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            if shared:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            try:
                probe.bind((target, port))
            except OSError as err:
                if err.errno != errno.EADDRINUSE:
                    raise BacnetPortInUse(f"cannot bind BACnet to {target}:{port}: {err}") from err
                raise BacnetPortInUse(
                    f"UDP port {port} on {target} is already in use by another process (another BACnet "
                    f"application on this machine?). Stop it, or set BACNET_PORT to a free port (e.g. {port + 1}) "
                    f"in the edge agent's .env: meters are still reached on their own port, and discovery "
                    f"then uses directed Who-Is and BACNET_BROADCAST_ADDRESS:47808."
                ) from None


def loopback_self_addressed(meter_addresses: list[str], port: int) -> list[str]:
    """Meters bacpypes3 would take for this application itself: 127.x on the application's own port."""
    clashes = []
    for address in meter_addresses:
        host, _, meter_port = address.partition(":")
        if host.startswith("127.") and int(meter_port or 47808) == port:
            clashes.append(address)
    return clashes


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
    foreign: str | None = None,
    ttl: int = 300,
) -> Application:
    """An Application with a device object at address (e.g. '127.0.0.10/8:47808'); call in a running loop.

    With `foreign` (a BBMD's 'ip' or 'ip:port') it registers there as a foreign device for `ttl` seconds.
    """
    check_loopback_safe(address)
    args = Namespace(
        name=name,
        instance=device_id,
        network=0,
        address=address,
        vendoridentifier=VENDOR_ID,
        foreign=foreign,
        ttl=ttl,
        bbmd=None,
    )
    app = cls.from_args(args)
    if apdu_timeout_ms is not None:
        app.device_object.apduTimeout = apdu_timeout_ms
    if apdu_retries is not None:
        app.device_object.numberOfApduRetries = apdu_retries
    return app


async def wait_bound(app: Application, timeout: float = 5.0) -> None:
    """Wait until the application's UDP sockets are bound (bacpypes3 binds them in background tasks)."""
    tasks = [t for layer in app.link_layers.values() for t in getattr(layer.server, "_transport_tasks", [])]
    if tasks:
        await asyncio.wait_for(asyncio.gather(*tasks), timeout)


async def add_routes(app: Application, routes: dict[int, str]) -> None:
    """Tell the application which router reaches each remote network (BACNET_ROUTES).

    Without this bacpypes3 asks with a broadcast Who-Is-Router-To-Network, which a router answers on its
    own port: an application on another port (or one whose broadcasts do not reach the router) never hears
    it, and every read of a routed device fails with an unknown route.
    """
    by_router: dict[str, set[int]] = {}
    for network, router in routes.items():
        by_router.setdefault(router, set()).add(network)
    for router, networks in by_router.items():
        for snet in list(app.nsap.adapters):
            # update_path_info keeps the cache's two tables (router -> networks, network -> router) in step
            await app.nsap.router_info_cache.update_path_info(snet, Address(router), networks)
