"""Users for dashboards and MCP: login (JWT), list, create, update role or active flag."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import issue_token
from api.errors import InvalidInput, NotFoundError
from api.settings import CentralSettings
from db import users as db_users
from db.central_models import User


async def login(
    session: AsyncSession, settings: CentralSettings, email: str, password: str
) -> tuple[User, str, datetime] | None:
    """(user, token, expiry) for valid credentials of an active user, else None."""
    user = await db_users.authenticate_user(session, email, password)
    if user is None:
        return None
    token, expires = issue_token(settings, user)
    return user, token, expires


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
