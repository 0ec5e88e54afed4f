"""`meterit demo`: the whole system on one machine, on embedded SQLite, with simulated meters."""

import os
from pathlib import Path

from meterit.cli import CliError


def register(subparsers) -> None:
    """Add the `demo` command."""
    parser = subparsers.add_parser(
        "demo",
        help="run central + edge + simulated meters + both dashboards on this machine",
        description="Runs everything on loopback with SQLite (or DATABASE_URL for central), prints the URLs "
        "and the demo login; Ctrl-C stops everything. Data and logs go to --data-dir, wiped at each start "
        "unless --keep.",
    )
    parser.add_argument("--data-dir", default="data/demo", help="where databases, logs and mail go")
    parser.add_argument("--keep", action="store_true", help="keep the data of the previous run")
    parser.add_argument("--meters", type=int, default=5, help="number of simulated meters (default 5)")
    parser.add_argument("--no-dashboards", action="store_true", help="skip the two Reflex dashboards")
    parser.add_argument("--api-port", type=int, default=3001)
    parser.add_argument("--edge-api-port", type=int, default=3002)
    parser.add_argument("--ui-client-port", type=int, default=3000)
    parser.add_argument("--ui-edge-port", type=int, default=3003)
    parser.add_argument("--simulator-control-port", type=int, default=47900)
    parser.add_argument(
        "--history-days",
        type=int,
        default=30,
        help="days of simulated history sent through the edge first (0-90)",
    )
    parser.add_argument("--mcp-port", type=int, default=8765)
    parser.add_argument("--base-address", default="127.0.0.10", help="loopback address of the first meter")
    parser.add_argument(
        "--edge-address", default="127.0.0.1", help="loopback address of the edge's BACnet side"
    )
    parser.set_defaults(handler=_handle)


def _handle(args) -> int:
    from meterit.demo import DemoPlan, run_demo
    from meterit.supervisor import ServiceFailed

    if not 1 <= args.meters <= 200:
        raise CliError("--meters must be between 1 and 200")
    if not 0 <= args.history_days <= 90:
        raise CliError("--history-days must be between 0 and 90")
    plan = DemoPlan(
        data_dir=Path(args.data_dir).resolve(),
        central_db=os.environ.get("DATABASE_URL"),
        meters=args.meters,
        api_port=args.api_port,
        edge_api_port=args.edge_api_port,
        ui_client_port=args.ui_client_port,
        ui_edge_port=args.ui_edge_port,
        simulator_control_port=args.simulator_control_port,
        mcp_port=args.mcp_port,
        history_days=args.history_days,
        base_address=args.base_address,
        edge_address=args.edge_address,
        with_dashboards=not args.no_dashboards,
    )
    try:
        return run_demo(plan, fresh=not args.keep)
    except ServiceFailed as err:
        raise CliError(str(err)) from err
