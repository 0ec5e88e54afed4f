"""`meterit soak`: run the whole system under faults and prove nothing was lost (docs/reliability.md)."""

from pathlib import Path


def register(subparsers) -> None:
    """Add `meterit soak --minutes N --seed S`."""
    parser = subparsers.add_parser(
        "soak",
        help="fault soak: central, edges and 100 meters under kills, restarts, bad networks and clock steps",
        description="Starts its own PostgreSQL, central (2 API workers), two edges and 100 simulated meters, "
        "injects faults at times drawn from the seed, then prints served/central/lost/duplicated/invented "
        "readings. Exit status 1 on any loss, duplicate or invented reading. Network faults need root "
        "(namespaces, tc netem); without it they are skipped and the report says so.",
    )
    parser.add_argument("--minutes", type=float, default=5.0, help="length of the fault window (default 5)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the fault times (default 1)")
    parser.add_argument("--workdir", type=Path, help="where logs and records go (default: a new temp dir)")
    parser.set_defaults(handler=_run)


def _run(args) -> int:
    from meterit.soak.run import Soak

    if args.minutes <= 0 or args.minutes > 24 * 60:
        raise ValueError("--minutes must be between 0 and 1440")
    return Soak(args.minutes, args.seed, args.workdir, echo=lambda line: print(line, flush=True)).run()
