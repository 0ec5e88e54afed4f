"""The PostgreSQL engine replaces pooled connections the server closed, without a ping per checkout, and its pool
logs as quietly as SQLAlchemy's own."""

import asyncio
import logging

import asyncpg
from sqlalchemy import text

from db.engine import asyncpg_connection, make_engine, make_sessionmaker, session_scope
from tests.support.pg import PG_ADMIN_URL


def test_connections_the_server_terminated_are_replaced(pg_empty_url):
    async def run():
        engine = make_engine(pg_empty_url, pool_size=2)
        sessions = make_sessionmaker(engine)
        try:
            async with session_scope(sessions) as session:
                first = await session.scalar(text("SELECT pg_backend_pid()"))
            admin = await asyncpg.connect(PG_ADMIN_URL.replace("+asyncpg", ""))
            try:
                assert await admin.fetchval("SELECT pg_terminate_backend($1)", first)
            finally:
                await admin.close()
            await asyncio.sleep(0.2)  # the event loop sees the pooled socket close
            async with session_scope(sessions) as session:
                second = await session.scalar(text("SELECT pg_backend_pid()"))
            return first, second
        finally:
            await engine.dispose()

    first, second = asyncio.run(run())
    assert second != first


def test_a_sessions_asyncpg_connection_is_its_transactions_whichever_connection_that_is(pg_empty_url):
    async def pids(conn, session):
        return await conn.fetchval("SELECT pg_backend_pid()"), await session.scalar(
            text("SELECT pg_backend_pid()")
        )

    async def run():
        engine = make_engine(pg_empty_url, pool_size=2)
        sessions = make_sessionmaker(engine)
        try:
            async with sessions() as session:
                async with session.begin():
                    conn = await asyncpg_connection(session)
                    assert await asyncpg_connection(session) is conn and conn.is_in_transaction()
                    await conn.execute("CREATE TEMP TABLE seen (n int) ON COMMIT DROP")
                    await session.execute(text("INSERT INTO seen VALUES (1)"))
                    assert await conn.fetchval("SELECT count(*) FROM seen") == 1  # one transaction
                    first = await pids(conn, session)
                async with sessions() as other, other.begin():
                    await other.execute(text("SELECT 1"))  # holds the pooled connection the first one used
                    async with session.begin():
                        conn = await asyncpg_connection(session)
                        second = await pids(conn, session)
                        assert conn.is_in_transaction()
            return first, second
        finally:
            await engine.dispose()

    first, second = asyncio.run(run())
    assert first[0] == first[1] and second[0] == second[1]
    assert second[0] != first[0]


def test_postgresql_connections_run_without_jit(pg_empty_url):
    async def run():
        engine = make_engine(pg_empty_url, pool_size=1)
        try:
            async with session_scope(make_sessionmaker(engine)) as session:
                return await session.scalar(text("SHOW jit"))
        finally:
            await engine.dispose()

    assert asyncio.run(run()) == "off"


def test_the_edge_sqlite_engine_keeps_durability_with_a_small_pool_and_cache(tmp_path):
    from db.edge.store import SQLITE_CACHE_KIB, SQLITE_POOL, make_edge_engine

    async def run():
        engine = make_edge_engine(f"sqlite+aiosqlite:///{tmp_path}/edge.db")
        try:
            async with engine.connect() as conn:
                pragmas = [
                    (await conn.execute(text(f"PRAGMA {name}"))).scalar_one()
                    for name in ("journal_mode", "synchronous", "cache_size")
                ]
            return pragmas, engine.pool.size(), engine.pool._max_overflow
        finally:
            await engine.dispose()

    pragmas, size, overflow = asyncio.run(run())
    assert pragmas == ["wal", 2, -SQLITE_CACHE_KIB]  # synchronous 2 = FULL
    assert (size, overflow) == SQLITE_POOL


def test_disposing_an_engine_logs_nothing_at_info(pg_empty_url, caplog):
    """The pool's dispose lines ("Pool disposed", "Pool recreating") stay below INFO, as SQLAlchemy's own pools'."""

    async def run():
        engine = make_engine(pg_empty_url, pool_size=1)
        async with engine.connect() as conn:
            await conn.scalar(text("SELECT 1"))
        await engine.dispose()
        await engine.dispose()

    with caplog.at_level(logging.INFO):
        asyncio.run(run())
    assert not [record for record in caplog.records if "Pool" in record.getMessage()]
