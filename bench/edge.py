"""`meterit bench edge`: collection values/s and agent CPU per 1,000 values; backlog drain vs central's raw ingest.

Targets (issue 4): a site of 100 meters × 10 points every 10 s under 30% of one core (projected from the
measured CPU per 1,000 values), and a backlog drain of at least 0.8 of central's raw ingest rate.
"""

import asyncio
import logging

from bench.edge_collect import measure_collection, site_projection
from bench.edge_drain import measure_drain
from db.wire import DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE

logger = logging.getLogger(__name__)

TARGET_CORE_SHARE = 0.30
TARGET_DRAIN_RATIO = 0.8


def register(benches) -> None:
    """Add `bench edge`."""
    parser = benches.add_parser("edge", help="edge collection CPU and backlog drain rate vs central ingest")
    parser.add_argument("--meters", type=int, default=100, help="simulated meters (default 100)")
    parser.add_argument("--points", type=int, default=10, help="points per meter (default 10)")
    parser.add_argument("--polls", type=int, default=5, help="back-to-back polls timed (default 5)")
    parser.add_argument(
        "--readings", type=int, default=1_000_000, help="outbox backlog to drain (default 1,000,000)"
    )
    parser.add_argument("--raw-readings", type=int, default=100_000, help="readings for central's raw rate")
    parser.add_argument(
        "--batch-sizes",
        default=str(DEFAULT_BATCH_SIZE),
        help=f"comma-separated batch sizes, one drain run each (default BATCH_SIZE, {DEFAULT_BATCH_SIZE:,}; central allows <= {MAX_BATCH_SIZE:,})",
    )
    parser.add_argument(
        "--pipeline", type=int, default=3, help="uploads in flight (UPLOAD_PIPELINE, default 3)"
    )
    parser.add_argument("--trials", type=int, default=3, help="alternating raw/drain trials per batch size")
    parser.add_argument("--skip-collect", action="store_true")
    parser.add_argument("--skip-drain", action="store_true")
    parser.set_defaults(handler=lambda args: asyncio.run(run(args)))


async def run(args) -> int:
    """Run both halves and print their figures beside the targets."""
    for name in ("edge_agent", "httpx", "httpx2", "alembic"):
        logging.getLogger(name).setLevel(logging.ERROR)
    if not args.skip_collect:
        c = await measure_collection(args.meters, args.points, args.polls)
        share = site_projection(c["cpu_ms_per_1000"])
        print(
            f"collection: {c['values']}/{c['expected']} values in {c['wall_s']:.1f} s = {c['values_per_s']:.0f} values/s"
        )
        print(
            f"  agent CPU: {c['cpu_ms_per_1000']:.0f} ms per 1,000 values (RPM + decode + SQLite outbox commit)"
        )
        print(
            f"  projection 100 meters x 10 points every 10 s: {share:.1%} of one core "
            f"(target < {TARGET_CORE_SHARE:.0%}: {'OK' if share < TARGET_CORE_SHARE else 'MISSED'})"
        )
    if not args.skip_drain:
        for batch in (int(b) for b in args.batch_sizes.split(",")):
            d = await measure_drain(
                args.readings, min(args.raw_readings, args.readings), batch, args.pipeline, args.trials
            )
            print(
                f"backlog drain, batches of {batch:,}, {args.pipeline} in flight, {args.trials} alternating trials "
                f"({d['outcome']}, {d['left']} left):"
            )
            for raw, drain in zip(d["raw"], d["drain"], strict=True):
                print(
                    f"  raw through CentralClient {raw.rate:9,.0f} readings/s ({raw.cpu_text()})   "
                    f"drain {drain.rate:9,.0f} readings/s ({drain.cpu_text()})"
                )
            ratio = d["ratio"]
            print(
                f"  medians: raw {d['raw_per_s']:,.0f}/s, drain {d['drain_per_s']:,.0f}/s: ratio {ratio:.2f} "
                f"(target >= {TARGET_DRAIN_RATIO}: {'OK' if ratio >= TARGET_DRAIN_RATIO else 'MISSED'})"
            )
    return 0
