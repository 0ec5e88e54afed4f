"""`meterit user create EMAIL --role admin|viewer`: add a dashboard user."""

import getpass
import os

from db.users import ROLES, create_user
from meterit.cli import CliError
from meterit.commands.common import add_database_option, database_url, run_in_session


def register(subparsers) -> None:
    """Add the `user` command."""
    parser = subparsers.add_parser("user", help="manage dashboard users")
    actions = parser.add_subparsers(dest="user_action", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="create a user (password from --password-env or a prompt)")
    create.add_argument("email")
    create.add_argument("--role", choices=ROLES, default="viewer")
    create.add_argument(
        "--password-env", metavar="VAR", help="read the password from this environment variable"
    )
    add_database_option(create)
    create.set_defaults(handler=_create)


def _read_password(args) -> str:
    if args.password_env:
        password = os.environ.get(args.password_env)
        if not password:
            raise CliError(f"environment variable {args.password_env} is empty")
        return password
    password = getpass.getpass("password: ")
    if password != getpass.getpass("again: "):
        raise CliError("passwords differ")
    return password


def _create(args) -> int:
    password = _read_password(args)
    user = run_in_session(database_url(args), lambda s: create_user(s, args.email, password, args.role))
    print(f"user {user.id}: {user.email} ({user.role})")
    return 0
