"""Users for dashboards and MCP: login (JWT), list, create, update role or active flag, site grants."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import issue_token
from api.errors import Forbidden, InvalidInput, NotFoundError
from api.settings import CentralSettings
from db.central import grants as db_grants
from db.central import users as db_users
from db.central.grants import GrantRow
from db.central.models import User
from db.engine import session_scope
from db.errors import NotFound


async def login(
    sessions, settings: CentralSettings, email: str, password: str
) -> tuple[User, str, datetime] | None:
    """(user, token, expiry) for valid credentials of an active user, else None.

    The database session is closed before argon2 runs: a login flood must not hold the connection pool
    (which /healthz and every other request need) while it waits for password checks.
    """
    async with session_scope(sessions) as session:
        user = await db_users.find_user(session, email)
    if not await db_users.password_matches(user, password):
        return None
    token, expires = issue_token(settings, user)
    return user, token, expires


async def change_password(
    session: AsyncSession, settings: CentralSettings, user: User, old_password: str, new_password: str
) -> tuple[User, str, datetime]:
    """Set a new password after checking the old one; every other session ends; (user, new token, expiry)."""
    if await db_users.authenticate_user(session, user.email, old_password) is None:
        raise Forbidden("the current password is wrong")
    changed = await db_users.set_password(session, user.id, new_password)
    token, expires = issue_token(settings, changed)
    return changed, token, expires


async def reset_password(session: AsyncSession, user_id: int, new_password: str) -> User:
    """An administrator sets a user's password; every session of that user ends."""
    try:
        return await db_users.set_password(session, user_id, new_password)
    except NotFound as err:
        raise NotFoundError(str(err)) from err


async def logout(session: AsyncSession, user: User) -> None:
    """End every session of the user (its tokens stop working)."""
    await db_users.end_sessions(session, user.id)


async def list_users(session: AsyncSession) -> list[User]:
    """All users by email."""
    return list(await session.scalars(select(User).order_by(User.email)))


async def create_user(session: AsyncSession, email: str, password: str, role: str) -> User:
    """A new user (role admin, manager or viewer; non-admins see only the sites granted them)."""
    return await db_users.create_user(session, email, password, role)


async def update_user(
    session: AsyncSession, user_id: int, role: str | None = None, is_active: bool | None = None
) -> User:
    """Change a user's role or active flag."""
    user = await session.get(User, user_id)
    if user is None:
        raise NotFoundError(f"no user with id {user_id}")
    if role is not None:
        if role not in db_users.ROLES:
            raise InvalidInput(f"role must be one of {', '.join(db_users.ROLES)}")
        user.role = role
    if is_active is not None:
        user.is_active = is_active
    await session.flush()
    return user


async def grant_site(session: AsyncSession, user_id: int, site_id: int, role: str) -> list[GrantRow]:
    """Give a user a role ("manager" or "viewer") at a site; the user's grants after the change."""
    try:
        await db_grants.set_grant(session, user_id, site_id, role)
    except NotFound as err:
        raise NotFoundError(str(err)) from err
    except ValueError as err:
        raise InvalidInput(str(err)) from err
    return await db_grants.list_grants(session, user_id)


async def revoke_site(session: AsyncSession, user_id: int, site_id: int) -> list[GrantRow]:
    """Take a user's role at a site away (NotFoundError when it had none); its grants after the change."""
    if not await db_grants.remove_grant(session, user_id, site_id):
        raise NotFoundError(f"user {user_id} has no role at site {site_id}")
    return await db_grants.list_grants(session, user_id)


async def list_grants(session: AsyncSession, user_id: int | None = None) -> list[GrantRow]:
    """Every grant, or one user's."""
    return await db_grants.list_grants(session, user_id)
