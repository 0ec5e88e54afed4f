"""Failed-login counts in the central database, so every API worker sees the same ones (api/login_guard.py).

Each call is one transaction holding the rows it reads (SELECT ... FOR UPDATE on PostgreSQL): two workers
counting at once are serialized, so N workers do not give an attacker N times the guesses.
"""

from collections.abc import Callable

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.central.models import LoginFailure

EMPTY = {"failures": 0, "last_failure": 0.0, "next_allowed": 0.0, "locked_until": 0.0}


async def _rows(session: AsyncSession, keys: list[tuple[str, str]]) -> dict[tuple[str, str], LoginFailure]:
    """The rows of these keys, created empty when missing (by whichever worker comes first), locked until commit."""
    dialect = session.bind.dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    found = {}
    for scope, ident in sorted(keys):  # one order everywhere: two workers never wait on each other's rows
        await session.execute(
            insert(LoginFailure).values(scope=scope, ident=ident, **EMPTY).on_conflict_do_nothing()
        )
        query = select(LoginFailure).where(LoginFailure.scope == scope, LoginFailure.ident == ident)
        found[scope, ident] = await session.scalar(
            query.with_for_update().execution_options(populate_existing=True)
        )
    return found


async def begin_attempt(
    session: AsyncSession, keys: list[tuple[str, str]], now: float, wait: Callable, fail: Callable
) -> float:
    """Seconds to wait (nothing counted), or 0 after counting the attempt as a failure for every key."""
    rows = await _rows(session, keys)
    waits = [wait(row, now) for row in rows.values()]
    if max(waits, default=0.0) > 0:
        return max(waits)
    for row in rows.values():
        fail(row, now)
    await session.flush()
    return 0.0


async def attempt_succeeded(
    session: AsyncSession, account: tuple[str, str], address: tuple[str, str]
) -> None:
    """Forget the account's failures and take back the address's count of this attempt."""
    await forget(session, account)
    row = (await _rows(session, [address]))[address]
    row.failures = max(0, row.failures - 1)
    await session.flush()


async def forget(session: AsyncSession, key: tuple[str, str]) -> None:
    """Drop one account's or address's record (an administrator set a new password)."""
    await session.execute(
        delete(LoginFailure).where(LoginFailure.scope == key[0], LoginFailure.ident == key[1])
    )


async def prune(session: AsyncSession, now: float, quiet_seconds: float) -> None:
    """Drop records with no failure for quiet_seconds and no lock running."""
    await session.execute(
        delete(LoginFailure).where(
            LoginFailure.last_failure < now - quiet_seconds, LoginFailure.locked_until < now
        )
    )
