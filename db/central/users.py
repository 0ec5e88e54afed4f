"""Data access for dashboard users (central database)."""

import asyncio
import os
import weakref

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.central.models import User
from db.central.secrets import hash_password, verify_password
from db.errors import AlreadyExists, NotFound

ROLES = ("admin", "manager", "viewer")
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


_dummy_hash: str | None = None


def dummy_hash() -> str:
    """An argon2 hash of a random password, verified for unknown users so they take as long as known ones."""
    global _dummy_hash
    if _dummy_hash is None:
        import secrets

        _dummy_hash = hash_password(secrets.token_urlsafe(24))
    return _dummy_hash


async def find_user(session: AsyncSession, email: str) -> User | None:
    """The user with this e-mail (any state), or None."""
    return await session.scalar(select(User).where(User.email == email.strip().lower()))


async def password_matches(user: User | None, password: str) -> bool:
    """True for an active user whose password this is; run with no database session held.

    argon2 runs in a worker thread (the event loop keeps serving), one verification per core pair at a
    time (a flood queues instead of taking every core), and an unknown or disabled user costs the same
    verification as a known one, so the answer's timing does not tell which e-mails exist.
    """
    stored = user.password_hash if user is not None else dummy_hash()
    async with _verify_slots():
        matches = await asyncio.to_thread(verify_password, password, stored)
    return user is not None and user.is_active and matches


async def authenticate_user(session: AsyncSession, email: str, password: str) -> User | None:
    """The active user with these credentials, or None (holds the session while verifying: see login)."""
    user = await find_user(session, email)
    return user if await password_matches(user, password) else None


_slots: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]" = (
    weakref.WeakKeyDictionary()
)


def _verify_slots() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    if loop not in _slots:
        _slots[loop] = asyncio.Semaphore(max(1, (os.cpu_count() or 2) // 2))
    return _slots[loop]


def check_password_rules(password: str) -> None:
    """ValueError when a new password is too short."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")


async def set_password(session: AsyncSession, user_id: int, password: str) -> User:
    """Store a new password and bump the token version (every token issued before stops working)."""
    check_password_rules(password)
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user with id {user_id}")
    user.password_hash = await asyncio.to_thread(hash_password, password)
    user.token_version += 1
    await session.flush()
    return user


async def end_sessions(session: AsyncSession, user_id: int) -> User:
    """Bump the user's token version: every token issued so far stops working."""
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user with id {user_id}")
    user.token_version += 1
    await session.flush()
    return user
