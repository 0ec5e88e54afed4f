"""Users for dashboards and MCP: login (JWT), list, create, update role or active flag."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import issue_token
from api.errors import Forbidden, InvalidInput, NotFoundError
from api.settings import CentralSettings
from db import users as db_users
from db.central_models import User
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
    """A new user (role admin or viewer)."""
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
