"""Entry point of the `meterit` command: one subcommand per module in meterit/commands."""

import argparse
import importlib
import logging
import sys

from db.errors import DbError
from edge_agent.errors import EdgeError

# Each module has register(subparsers) adding the command named here; its parser sets `handler` (args -> exit
# code). Only the invoked command's module is imported: all of them load ~12 MB of libraries (asyncpg, httpx,
# rich, the benchmarks) that a long-running `meterit edge` would otherwise keep for its lifetime.
COMMANDS = {
    "db": "meterit.commands.db_cmd",
    "site": "meterit.commands.site_cmd",
    "user": "meterit.commands.user_cmd",
    "bench": "meterit.commands.bench_cmd",
    "api": "meterit.commands.api_cmd",
    "ui": "meterit.commands.ui_cmd",
    "edge": "meterit.commands.edge_cmd",
    "simulate": "meterit.commands.simulate_cmd",
    "demo": "meterit.commands.demo_cmd",
    "mcp": "meterit.commands.mcp_cmd",
    "soak": "meterit.commands.soak_cmd",
}
COMMAND_MODULES = list(COMMANDS.values())


class CliError(Exception):
    """A failure to report as one line, without a traceback."""


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser with every subcommand, or with the one named `only`."""
    parser = argparse.ArgumentParser(
        prog="meterit",
        description="MeterIT: collect meter data from many sites (central API, edge agents, dashboards).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in [COMMANDS[only]] if only in COMMANDS else COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def _command_of(argv: list[str]) -> str | None:
    """The subcommand named in argv (its first word not starting with a dash), if it is one."""
    first = next((word for word in argv if not word.startswith("-")), None)
    return first if first in COMMANDS else None


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the chosen subcommand."""
    parser = build_parser(_command_of(sys.argv[1:] if argv is None else argv))
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
