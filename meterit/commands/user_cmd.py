"""`meterit user create|password|grant|revoke|list`: dashboard users, their passwords and their sites."""

import getpass
import os

from db.central.grants import SITE_ROLES, list_grants, notify_sites_changed, remove_grant, set_grant
from db.central.sites import list_sites
from db.central.users import ROLES, create_user, find_user, set_password
from meterit.cli import CliError
from meterit.commands.common import add_database_option, database_url, run_in_session


def register(subparsers) -> None:
    """Add the `user` command."""
    parser = subparsers.add_parser("user", help="manage dashboard users")
    actions = parser.add_subparsers(dest="user_action", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="create a user (password from --password-env or a prompt)")
    create.add_argument("email")
    create.add_argument(
        "--role", choices=ROLES, default="viewer", help="admin: every site; else granted sites"
    )
    _password_option(create)
    add_database_option(create)
    create.set_defaults(handler=_create)

    password = actions.add_parser("password", help="set a user's password (every session of the user ends)")
    password.add_argument("email")
    _password_option(password)
    add_database_option(password)
    password.set_defaults(handler=_password)

    grant = actions.add_parser("grant", help="give a user a role at sites (its open sockets close)")
    grant.add_argument("email")
    grant.add_argument("sites", nargs="+", metavar="SITE", help="site id or exact name")
    grant.add_argument("--role", choices=SITE_ROLES, help="default: the user's role (manager or viewer)")
    add_database_option(grant)
    grant.set_defaults(handler=_grant)

    revoke = actions.add_parser("revoke", help="take a user's role at sites away (its open sockets close)")
    revoke.add_argument("email")
    revoke.add_argument("sites", nargs="+", metavar="SITE", help="site id or exact name")
    add_database_option(revoke)
    revoke.set_defaults(handler=_revoke)

    listing = actions.add_parser("list", help="users with their roles and sites")
    add_database_option(listing)
    listing.set_defaults(handler=_list)


def _password_option(parser) -> None:
    parser.add_argument(
        "--password-env", metavar="VAR", help="read the password from this environment variable"
    )


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


async def _user(session, email: str):
    user = await find_user(session, email)
    if user is None:
        raise CliError(f"no user with email {email}")
    return user


def _password(args) -> int:
    password = _read_password(args)

    async def work(session):
        user = await _user(session, args.email)
        try:
            changed = await set_password(session, user.id, password)
        except ValueError as err:
            raise CliError(str(err)) from err
        await notify_sites_changed(session, user.id, "sessions_ended")  # its open sockets re-check and close
        return changed

    user = run_in_session(database_url(args), work)
    print(f"password of {user.email} set; its existing sessions ended")
    return 0


async def _site_ids(session, wanted: list[str]) -> list[int]:
    sites = await list_sites(session)
    by_id, by_name = {str(s.id): s.id for s in sites}, {s.name: s.id for s in sites}
    missing = [w for w in wanted if w not in by_id and w not in by_name]
    if missing:
        raise CliError(f"no site {', '.join(map(repr, missing))} (give an id or the exact name)")
    return [by_id.get(w) or by_name[w] for w in wanted]


def _grant(args) -> int:
    async def work(session):
        user = await _user(session, args.email)
        if user.role == "admin":
            raise CliError(f"{user.email} is an admin: it sees every site already")
        role = args.role or ("manager" if user.role == "manager" else "viewer")
        for site_id in await _site_ids(session, args.sites):
            await set_grant(session, user.id, site_id, role)
        await notify_sites_changed(session, user.id)
        return await list_grants(session, user.id)

    _print_grants(run_in_session(database_url(args), work))
    return 0


def _revoke(args) -> int:
    async def work(session):
        user = await _user(session, args.email)
        for site_id in await _site_ids(session, args.sites):
            await remove_grant(session, user.id, site_id)
        await notify_sites_changed(session, user.id)
        return await list_grants(session, user.id)

    _print_grants(run_in_session(database_url(args), work))
    return 0


def _list(args) -> int:
    async def work(session):
        from sqlalchemy import select

        from db.central.models import User

        users = list(await session.scalars(select(User).order_by(User.email)))
        return users, await list_grants(session)

    users, grants = run_in_session(database_url(args), work)
    for user in users:
        state = "" if user.is_active else ", disabled"
        if user.role == "admin":
            sites = "every site"
        else:
            mine = [f"{g.site_name} (#{g.site_id}, {g.role})" for g in grants if g.user_id == user.id]
            sites = "; ".join(mine) or "no site"
        print(f"{user.email} ({user.role}{state}): {sites}")
    return 0


def _print_grants(rows) -> None:
    if not rows:
        print("no site granted")
    for row in rows:
        print(f"{row.email}: {row.site_name} (#{row.site_id}) as {row.role}")
