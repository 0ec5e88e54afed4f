"""New PostgreSQL connections know the array types without asking the catalog (db/pg_codecs.py)."""

import asyncio
from datetime import UTC, date, datetime

from db import pg_codecs
from db.engine import asyncpg_connection, make_engine, make_sessionmaker, session_scope

ARRAYS = """SELECT $1::bigint[], $2::int[], $3::smallint[], $4::timestamptz[], $5::date[], $6::bool[],
  $7::float8[], $8::bytea[], $9::json[]"""
VALUES = (
    [1, 2**40],
    [3],
    [4],
    [datetime(2001, 2, 3, 4, 5, tzinfo=UTC)],  # only round-tripped: no clock is read
    [date(2001, 2, 3)],
    [True, False],
    [0.5],
    [b"\x00\x01"],
    ['{"a": 1}'],
)
RETURNED = [*VALUES[:-1], [{"a": 1}]]  # json as SQLAlchemy's asyncpg dialect decodes it


async def _arrays_on_a_new_connection(url: str) -> tuple[list, list[str]]:
    """The arrays round-tripped on a new pooled connection, and the queries asyncpg ran for it."""
    engine = make_engine(url, pool_size=1)
    seen: list[str] = []

    def log(record) -> None:
        seen.append(record.query)

    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            conn = await asyncpg_connection(session)
            conn.add_query_logger(log)
            row = await conn.fetchrow(ARRAYS, *VALUES)
            await asyncio.sleep(0)  # asyncpg hands records to loggers with call_soon
            conn.remove_query_logger(log)
        return list(row), seen
    finally:
        await engine.dispose()


def test_array_types_are_looked_up_once_per_process(pg_empty_url, monkeypatch):
    monkeypatch.setattr(pg_codecs, "_types", None)

    async def run():
        return [await _arrays_on_a_new_connection(pg_empty_url) for _ in range(2)]

    (first, first_queries), (second, second_queries) = asyncio.run(run())
    assert first == second == RETURNED
    assert pg_codecs._types  # the first connection's lookup, kept
    assert first_queries and second_queries  # the logger sees the statement itself
    for queries in (first_queries, second_queries):
        assert not [q for q in queries if "typeinfo" in q], queries  # no catalog query for the arrays


def test_without_the_preload_asyncpg_still_looks_types_up_itself(pg_empty_url, monkeypatch):
    import asyncpg

    monkeypatch.setattr(pg_codecs, "_types", None)
    real, calls = asyncpg.Connection._introspect_types, []

    async def missing_once(self, oids, timeout):
        calls.append(list(oids))
        if len(calls) == 1:  # the preload's call: as if this asyncpg had no such internal
            raise AttributeError("_introspect_types")
        return await real(self, oids, timeout)

    monkeypatch.setattr(asyncpg.Connection, "_introspect_types", missing_once)
    row, queries = asyncio.run(_arrays_on_a_new_connection(pg_empty_url))
    assert row == RETURNED
    assert pg_codecs._types is None  # nothing preloaded
    assert calls[0] == list(pg_codecs.ARRAY_OIDS) and len(calls) == 2  # then asyncpg's own lookup
