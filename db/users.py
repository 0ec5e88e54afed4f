"""Data access for dashboard users (central database)."""

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.central_models import User
from db.errors import AlreadyExists
from db.secrets import hash_password, verify_password

ROLES = ("admin", "viewer")
MIN_PASSWORD_LENGTH = 8


async def create_user(session: AsyncSession, email: str, password: str, role: str = "viewer") -> User:
    """Create a user with an argon2-hashed password."""
    email = email.strip().lower()
    if "@" not in email:
        raise ValueError(f"not an email address: {email!r}")
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    if await session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        raise AlreadyExists(f"a user with email {email} exists")
    user = User(email=email, password_hash=hash_password(password), role=role)
    session.add(user)
    await session.flush()
    return user


async def authenticate_user(session: AsyncSession, email: str, password: str) -> User | None:
    """The active user with these credentials, or None."""
    user = await session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.is_active or not verify_password(password, user.password_hash):
        return None
    return user
