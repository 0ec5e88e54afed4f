"""`meterit db upgrade|downgrade|current central|edge`: apply the Alembic migrations."""

from db.migrate import KINDS, current, downgrade, upgrade
from meterit.commands.common import add_database_option, database_url, run_in_session


def register(subparsers) -> None:
    """Add the `db` command."""
    parser = subparsers.add_parser("db", help="create or upgrade the central or edge database")
    actions = parser.add_subparsers(dest="db_action", metavar="ACTION", required=True)
    for name, helptext in (
        ("upgrade", "apply all migrations (creates the tables)"),
        ("downgrade", "revert migrations (default: all, which drops the tables)"),
        ("current", "show the applied revision"),
    ):
        action = actions.add_parser(name, help=helptext)
        action.add_argument("kind", choices=KINDS, help="which database")
        if name != "current":
            action.add_argument("--revision", default="head" if name == "upgrade" else "base")
        add_database_option(action)
        action.set_defaults(handler=_handle)


def _handle(args) -> int:
    url = database_url(args, args.kind)
    run_in_session(url, _noop)  # fails with a readable error when the server is unreachable
    if args.db_action == "upgrade":
        upgrade(args.kind, url, args.revision)
        print(f"{args.kind} database is at revision {args.revision}")
    elif args.db_action == "downgrade":
        downgrade(args.kind, url, args.revision)
        print(f"{args.kind} database downgraded to {args.revision}")
    else:
        current(args.kind, url)
    return 0


async def _noop(_session) -> None:
    return None
