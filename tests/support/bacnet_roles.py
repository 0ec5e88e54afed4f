"""BACnet roles run inside a test's network namespace: `python -m tests.support.bacnet_roles ROLE JSON`.

site: a BBMD and simulated meters on one subnet; prints "ready" and runs until terminated.
edge: an EdgeAgent (foreign device when BACNET_BBMD_ADDRESS is set) that waits for its registration,
      discovers, polls, waits for a renewal and prints one JSON line with what it saw.
"""

import asyncio
import json
import sys
import tempfile
from argparse import Namespace

from bacpypes3.app import Application


async def site(spec: dict) -> None:
    """A BBMD at spec['bbmd'] and spec['meters'] meters from spec['base'] (port 47808)."""
    from edge_agent.simulator import SimulatorFleet

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
    bbmd = Application.from_args(args)
    fleet = SimulatorFleet(
        spec["meters"],
        spec["base"],
        points=2,
        device_id_base=spec["device_base"],
        prefix=spec.get("prefix", 24),
    )
    await fleet.start()
    print("ready", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await fleet.stop()
        bbmd.close()


async def edge(spec: dict) -> None:
    """Run the agent once through registration, discovery, a poll and a renewal; print what happened."""
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
        devices = await agent.discover_devices(low=low, high=high, broadcast=spec.get("broadcast"))
        report["discovered"] = [(d.device_id, d.address, len(d.objects)) for d in devices]
        result = await agent.poll_now()
        report["poll"] = [result.meters_ok, result.meters_failed, result.values]
        if agent.foreign:
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
    asyncio.run({"site": site, "edge": edge}[role](spec))


if __name__ == "__main__":
    main()
