"""`meterit bench edge-poll`: seconds for one poll cycle of 200 devices x 5 points over loopback BACnet/IP.

Goal (issue 18): under 5 s per cycle. Baseline: the ThingsBoard IoT gateway needs about 75 s for the same
fleet (thingsboard-gateway#426). The simulated meters run in processes of their own (`meterit simulate`, one
per 250 meters unless --simulators says), so the agent's time is measured against a separate BACnet stack; each
cycle also commits to a SQLite outbox. With --agent, a real `meterit edge` polls on a steady interval instead.
"""

import asyncio
import logging
import statistics
import time

from bench.edge_agent_load import measure_agent, print_agent
from bench.edge_rig import polling_rig

BLOCK = "127.0.61"
GOAL_SECONDS = 5.0
BASELINE_SECONDS = 75.0
TARGET_AGENT_SHARE = 0.5  # 1,000 meters x 10 points every 10 s (issue 23)


def register(benches) -> None:
    """Add `bench edge-poll`."""
    parser = benches.add_parser(
        "edge-poll", help="seconds per poll cycle of 200 devices x 5 points (goal < 5 s)"
    )
    parser.add_argument("--meters", type=int, default=200, help="simulated devices (default 200)")
    parser.add_argument("--points", type=int, default=5, help="points per device (default 5)")
    parser.add_argument("--cycles", type=int, default=5, help="poll cycles timed (default 5)")
    parser.add_argument("--no-rpm", default="", help="1-based device numbers that refuse RPM (e.g. 1,2,3)")
    parser.add_argument(
        "--simulators",
        type=int,
        default=0,
        help="simulator processes sharing the meters (default: one per 250 meters)",
    )
    parser.add_argument(
        "--agent",
        action="store_true",
        help="run a real `meterit edge` process on a steady interval instead: CPU per 1,000 values and RSS",
    )
    parser.add_argument("--interval", type=float, default=10.0, help="--agent: collection interval, s")
    parser.add_argument("--seconds", type=float, default=60.0, help="--agent: measured window, s")
    parser.add_argument("--local-api", action="store_true", help="--agent: also serve the local API")
    parser.set_defaults(handler=lambda args: asyncio.run(run(args)))


async def measure(meters: int, points: int, cycles: int, no_rpm: str = "", simulators: int = 0) -> dict:
    """Time `cycles` poll cycles of the whole fleet; return per-cycle seconds and the values read."""
    async with polling_rig(BLOCK, 3_999_061, meters, points, no_rpm, simulators) as collector:
        seconds, cpu, values, failed = [], [], [], []
        for _ in range(cycles):
            started, cpu_started = time.perf_counter(), time.process_time()
            result = await collector.poll_once()
            seconds.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
            values.append(result.values)
            failed.append(result.meters_failed)
        profiles = list(collector.profiles.values())
        slowest = max(p.slowest_answer for p in profiles)
        grown = sum(1 for p in profiles if p.timeout > collector.limits.timeout)
    return {
        "seconds": seconds,
        "cpu": cpu,
        "values": values,
        "failed": failed,
        "expected": meters * points,
        "slowest_answer": slowest,
        "timeouts_grown": grown,
    }


async def run(args) -> int:
    """Run the benchmark and print seconds per cycle beside the goal and the baseline."""
    for name in ("edge_agent", "alembic"):
        logging.getLogger(name).setLevel(logging.ERROR)
    if args.agent:
        m = await measure_agent(
            args.meters, args.points, args.interval, args.seconds, args.local_api, args.simulators
        )
        print_agent(m, args.meters, args.points, args.interval, TARGET_AGENT_SHARE)
        return 0
    m = await measure(args.meters, args.points, args.cycles, args.no_rpm, args.simulators)
    median = statistics.median(m["seconds"])
    print(f"poll cycle, {args.meters} devices x {args.points} points over loopback BACnet/IP:")
    print(
        "  seconds per cycle: "
        + ", ".join(f"{s:.2f}" for s in m["seconds"])
        + f" (median {median:.2f}, best {min(m['seconds']):.2f})"
    )
    print(
        "  agent CPU seconds per cycle: "
        + ", ".join(f"{s:.2f}" for s in m["cpu"])
        + " (the rest of a cycle is waiting for the simulator, which runs in its own process)"
    )
    print(f"  values per cycle: {m['values']} of {m['expected']}; meters failed: {m['failed']}")
    print(
        f"  slowest single answer: {m['slowest_answer']:.2f} s; devices whose learnt timeout grew: "
        f"{m['timeouts_grown']} (a long cycle on a loaded machine is the simulator answering late)"
    )
    verdict = "OK" if median < GOAL_SECONDS else "MISSED"
    print(
        f"  goal < {GOAL_SECONDS:.0f} s: {verdict}; baseline ThingsBoard gateway ~{BASELINE_SECONDS:.0f} s (#426)"
    )
    return 0
