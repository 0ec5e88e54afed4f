"""Async engine and session helpers for PostgreSQL (asyncpg) and SQLite (aiosqlite, WAL).

SQLAlchemy's asyncio layer (which imports the ORM and greenlet, ~7 MB) is imported by the functions that
build async engines and sessions, not by this module: the SQLite edge agent imports this module without it
(db/edge/threaded.py).
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import AsyncAdaptedQueuePool

from db import pg_codecs
from db.errors import DatabaseUnavailable

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker


def normalize_url(url: str) -> str:
    """Pick the async driver for plain postgresql:// and sqlite:// URLs."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite://") and not url.startswith("sqlite+aiosqlite://"):
        return "sqlite+aiosqlite://" + url.split("://", 1)[1]
    return url


def is_sqlite(url_or_engine: str | AsyncEngine) -> bool:
    """True when the URL or engine (async, or the edge's threaded one) points at SQLite."""
    if not isinstance(url_or_engine, str):
        return url_or_engine.dialect.name == "sqlite"
    return normalize_url(url_or_engine).startswith("sqlite")


def ensure_sqlite_dir(url: str) -> None:
    """Create the folder of an SQLite database file."""
    database = make_url(url).database
    if database and database != ":memory:":
        directory = os.path.dirname(os.path.abspath(database))
        os.makedirs(directory, exist_ok=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets readers (dashboards) run beside the single writer; synchronous=FULL makes each
    # commit durable across power loss, which the outbox promises.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class CountingPool(AsyncAdaptedQueuePool):
    """The async queue pool, counting the callers waiting for a connection (SQLAlchemy does not expose it)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.waiting = 0

    def _do_get(self):
        # A free connection is handed over without yielding to the event loop, so `waiting` is seen above 0
        # only while a caller really waits: for a connection to come back, or for a new one to open.
        self.waiting += 1
        try:
            return super()._do_get()
        finally:
            self.waiting -= 1


# SQLAlchemy names a pool's logger after its class: ours falls outside the "sqlalchemy" logger, which SQLAlchemy
# holds at WARNING, so every dispose ("Pool disposed", "Pool recreating") reached an INFO log. Held the same way.
logging.getLogger(f"{CountingPool.__module__}.{CountingPool.__qualname__}").setLevel(logging.WARNING)


# Every statement here is short: JIT compiling one whose estimate passes jit_above_cost (stale statistics of
# a queue table were enough) cost 100-150 ms in a query of 1 ms (the 30-day hourly page, `meterit bench
# query`). Until the array codecs were preloaded (db/pg_codecs.py), asyncpg's type lookup inside a fold
# transaction, which sets jit off for that transaction, left it off for the session by accident.
SERVER_SETTINGS = {"jit": "off"}


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    """Create an async engine with dialect-appropriate settings (the SQLite edge's is db/edge/store.py's)."""
    url = normalize_url(url)
    if is_sqlite(url):
        from sqlalchemy.ext.asyncio import create_async_engine

        ensure_sqlite_dir(url)
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})
        for listener in sqlite_connect_listeners():
            event.listen(engine.sync_engine, "connect", listener)
        return engine
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(
        url,
        echo=echo,
        poolclass=CountingPool,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args={"timeout": 10, "command_timeout": 60, "server_settings": SERVER_SETTINGS},
    )
    event.listen(engine.sync_engine, "checkout", _refuse_closed_connection)
    event.listen(engine.sync_engine, "connect", pg_codecs.on_connect)
    return engine


def sqlite_connect_listeners(cache_kib: int | None = None) -> list:
    """The "connect" listeners of every SQLite engine: WAL and durable commits, and a page cache of cache_kib."""
    return [_sqlite_pragmas] + ([] if cache_kib is None else [_cache_size(cache_kib)])


def _cache_size(kib: int):
    def set_cache_size(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA cache_size=-{int(kib)}")  # negative: KiB rather than pages
        cursor.close()

    return set_cache_size


def _refuse_closed_connection(dbapi_connection, _record, _proxy) -> None:
    # A terminated backend or a restarted server closes the socket, which asyncpg notices as soon as the
    # event loop runs: checking that is free, where pool_pre_ping costs three round trips per checkout
    # (BEGIN, a ping, ROLLBACK). The pool replaces a connection refused here with a new one.
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("connection closed by the server")


def upsert_insert(engine: AsyncEngine, table):
    """INSERT with ON CONFLICT clauses for the engine's dialect (SQLite or PostgreSQL).

    The dialect's module is imported when first needed: PostgreSQL's (~2.3 MB, 19 modules) stays out of an
    SQLite edge agent.
    """
    if engine.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert
    return insert(table)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Session factory that keeps objects usable after commit."""
    from sqlalchemy.ext.asyncio import async_sessionmaker

    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def session_scope(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One transaction: commit on success, roll back on error."""
    async with sessions() as session:
        async with session.begin():
            yield session


async def driver_connection(session: AsyncSession):
    """The asyncpg connection under a PostgreSQL session, as it is (SQLAlchemy may not have sent BEGIN yet)."""
    return (await (await session.connection()).get_raw_connection()).driver_connection


async def asyncpg_connection(session: AsyncSession):
    """The asyncpg connection under a PostgreSQL session, in the session's transaction (for hot paths).

    Found once per transaction and held in session.info: a fold round asked for it a dozen times, and each
    answer went through SQLAlchemy's greenlet bridge (~4 % of the round's Python)."""
    transaction = session.sync_session.get_transaction()
    held = session.info.get(_HELD_CONNECTION)
    if held is not None and transaction is not None and held[0] is transaction:
        return held[1]
    conn = await driver_connection(session)
    if not conn.is_in_transaction():  # SQLAlchemy sends BEGIN with its first statement, not before
        await session.execute(text("SELECT 1"))
    session.info[_HELD_CONNECTION] = (session.sync_session.get_transaction(), conn)
    return conn


_HELD_CONNECTION = "meterit.asyncpg_connection"  # session.info key: (the transaction, its connection)


async def check_connection(engine: AsyncEngine) -> None:
    """Raise DatabaseUnavailable with a readable reason when the database cannot be reached."""
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as err:  # driver errors differ per dialect; all mean "cannot reach"
        raise DatabaseUnavailable(f"cannot reach database {safe_url(engine.url)}: {err}") from err


def safe_url(url) -> str:
    """The URL with its password hidden, for logs and errors."""
    return make_url(str(url)).render_as_string(hide_password=True)


def postgres_url(host: str, port: int, database: str, user: str, password: str | None) -> str:
    """An asyncpg URL from the POSTGRES_* style settings (password escaped)."""
    from urllib.parse import quote

    auth = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
    return f"postgresql+asyncpg://{auth}@{host}:{port}/{quote(database, safe='')}"
