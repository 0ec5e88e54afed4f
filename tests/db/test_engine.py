"""The PostgreSQL engine replaces pooled connections the server closed, without a ping per checkout."""

import asyncio

import asyncpg
from sqlalchemy import text

from db.engine import make_engine, make_sessionmaker, session_scope
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
