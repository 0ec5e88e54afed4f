"""Entry point of the `meterit` command: one subcommand per module in meterit/commands."""

import argparse
import importlib
import logging
import sys

from db.errors import DbError
from edge_agent.errors import EdgeError

# Each module has register(subparsers); the parser it adds sets `handler` (args -> exit code).
COMMAND_MODULES = [
    "meterit.commands.db_cmd",
    "meterit.commands.site_cmd",
    "meterit.commands.user_cmd",
    "meterit.commands.bench_cmd",
    "meterit.commands.api_cmd",
    "meterit.commands.ui_cmd",
    "meterit.commands.edge_cmd",
    "meterit.commands.simulate_cmd",
    "meterit.commands.demo_cmd",
    "meterit.commands.mcp_cmd",
    "meterit.commands.soak_cmd",
]


class CliError(Exception):
    """A failure to report as one line, without a traceback."""


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every available subcommand."""
    parser = argparse.ArgumentParser(
        prog="meterit",
        description="MeterIT: collect meter data from many sites (central API, edge agents, dashboards).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the chosen subcommand."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return args.handler(args) or 0
    except (CliError, DbError, EdgeError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
