"""BACnet roles run inside a test's network namespace: `python -m tests.support.bacnet_roles ROLE JSON`.

site: simulated meters on one subnet, with a BBMD when spec['bbmd'] is set; prints "ready", runs until
      terminated.
router: a BACnet router, one network port per [network, 'address/prefix:port']; prints "ready", runs until
      terminated.
edge: an EdgeAgent (foreign device when BACNET_BBMD_ADDRESS is set) that waits for its registration,
      discovers, polls, optionally waits for a renewal and a lapse, and prints one JSON line of what it saw.
"""

import asyncio
import json
import sys
import tempfile
from argparse import Namespace

from bacpypes3.app import Application


def _bbmd(spec: dict) -> Application:
    args = Namespace(
        name="test BBMD",
        instance=spec["bbmd_device"],
        network=0,
        address=spec["bbmd"],
        vendoridentifier=999,
        foreign=None,
        ttl=30,
        bbmd=[spec["bbmd"]],  # a BBMD lists itself in its BDT: that is what makes it broadcast locally
    )
    return Application.from_args(args)


async def site(spec: dict) -> None:
    """Meters from spec['base'] on spec['port'] (47808), and a BBMD at spec['bbmd'] when given."""
    from edge_agent.simulator import SimulatorFleet

    bbmd = _bbmd(spec) if spec.get("bbmd") else None
    fleet = SimulatorFleet(
        spec["meters"],
        spec["base"],
        points=2,
        port=spec.get("port", 47808),
        device_id_base=spec["device_base"],
        prefix=spec.get("prefix", 24),
    )
    await fleet.start()
    print("ready", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await fleet.stop()
        if bbmd:
            bbmd.close()


async def router(spec: dict) -> None:
    """A BACnet router: one device with a network port per [network, 'address/prefix:port']."""
    from bacpypes3.primitivedata import ObjectType
    from bacpypes3.vendor import get_vendor_info

    vendor = get_vendor_info(999)
    device = vendor.get_object_class(ObjectType.device)(
        objectIdentifier=("device", spec["device"]), objectName="test router"
    )
    port_class = vendor.get_object_class(ObjectType.networkPort)
    ports = [
        port_class(
            address,
            objectIdentifier=("network-port", index + 1),
            objectName=f"NetworkPort-{index + 1}",
            networkNumber=network,
            networkNumberQuality="configured",
        )
        for index, (network, address) in enumerate(spec["ports"])
    ]
    app = Application.from_object_list([device, *ports])
    print("ready", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        for layer in app.link_layers.values():
            layer.close()


async def edge(spec: dict) -> None:
    """Run the agent once through registration, discovery and a poll (and a renewal); print what happened."""
    from edge_agent.meters import parse_meters, save_meters_file
    from edge_agent.service import EdgeAgent
    from edge_agent.settings import EdgeSettings

    work = tempfile.mkdtemp(prefix="edge-netns-")
    save_meters_file(f"{work}/meters.json", parse_meters({"meters": spec.get("meters", [])}))
    settings = EdgeSettings(
        _env_file=None,
        sqlite_path=f"{work}/edge.db",
        meters_file=f"{work}/meters.json",
        log_dir=f"{work}/logs",
        **spec["settings"],
    )
    agent = EdgeAgent(settings, collect=False, upload=False)
    await agent.start(loops_on=False)
    report: dict = {}
    try:
        report["registered"] = await agent.foreign.wait_registered(10) if agent.foreign else None
        report["state"] = (await agent.status()).bbmd_state
        low, high = spec.get("instances", (None, None))
        devices = await agent.discover_devices(
            spec.get("range"), low=low, high=high, broadcast=spec.get("broadcast")
        )
        report["discovered"] = [(d.device_id, d.address, len(d.objects)) for d in devices]
        result = await agent.poll_now()
        report["poll"] = [result.meters_ok, result.meters_failed, result.values]
        report["health"] = {m: h.last_error for m, h in agent.collector.health.items()}
        if agent.foreign and spec.get("renewal", True):
            before = agent.foreign.registrations
            await asyncio.sleep(settings.bacnet_bbmd_ttl + 1.5)
            report["renewals"] = agent.foreign.registrations - before
            agent.foreign.layer._registration_expired()  # what bacpypes3 does after TTL + 30 s of silence
            report["after_lapse"] = agent.foreign.state
            agent.foreign.check()
            report["re_registered"] = await agent.foreign.wait_registered(10)
            report["final_state"] = agent.foreign.state
    finally:
        await agent.stop()
    print(json.dumps(report), flush=True)


def main() -> None:
    """Run the role named on the command line."""
    role, spec = sys.argv[1], json.loads(sys.argv[2])
    if spec.get("debug"):  # bacpypes3 module loggers to stderr, for debugging a role
        from bacpypes3.argparse import create_log_handler

        for name in spec["debug"]:
            create_log_handler(name)
    asyncio.run({"site": site, "router": router, "edge": edge}[role](spec))


if __name__ == "__main__":
    main()
