"""Create and drop throwaway PostgreSQL databases for tests (never the user's data)."""

import os

import asyncpg

PG_ADMIN_URL = os.environ.get("METERIT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def pg_available() -> bool:
    """True when the test PostgreSQL server accepts connections."""
    import asyncio

    async def _probe() -> bool:
        try:
            conn = await asyncpg.connect(PG_ADMIN_URL, timeout=3)
        except (OSError, asyncpg.PostgresError):
            return False
        await conn.close()
        return True

    try:
        return asyncio.run(_probe())
    except RuntimeError:  # called inside a running loop
        return True


def _database_url(name: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return base.replace("postgresql://", "postgresql+asyncpg://", 1) + "/" + name


async def create_database(name: str) -> str:
    """Create an empty database and return its asyncpg URL."""
    if not name.startswith("meterit_"):
        raise ValueError("test databases are named meterit_*")
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return _database_url(name)


async def drop_database(name: str) -> None:
    """Drop a test database, closing its connections."""
    if not name.startswith("meterit_"):
        raise ValueError("only test databases may be dropped")
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def migrated_central_database(prefix: str):
    """Create a migrated central database named prefix_*, yield its URL, drop it afterwards."""
    import asyncio
    import uuid

    from db.migrate import upgrade

    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    url = asyncio.run(create_database(name))
    upgrade("central", url)
    yield url
    asyncio.run(drop_database(name))
