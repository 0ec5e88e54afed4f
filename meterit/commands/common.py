"""Helpers shared by subcommands: database URL resolution and running async work."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import check_connection, make_engine, make_sessionmaker, session_scope

T = TypeVar("T")


def add_database_option(parser, kind: str = "central") -> None:
    """Add --database-url (default: the deployable's settings)."""
    parser.add_argument(
        "--database-url",
        help=f"database URL (default: the {kind} settings: DATABASE_URL, POSTGRES_* or the SQLite file)",
    )


def database_url(args, kind: str = "central") -> str:
    """The URL given on the command line, else from the deployable's settings."""
    if getattr(args, "database_url", None):
        return args.database_url
    if kind == "central":
        from api.settings import CentralSettings

        return CentralSettings().db_url
    from edge_agent.settings import EdgeSettings

    return EdgeSettings().db_url


def run_in_session(url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run work(session) in one committed transaction; a clear error if the database is unreachable."""

    async def _run() -> T:
        engine = make_engine(url, pool_size=1)
        try:
            await check_connection(engine)
            async with session_scope(make_sessionmaker(engine)) as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(_run())
