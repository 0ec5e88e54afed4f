"""The SQLite edge engine on threads: the async calls the edge uses, transactions, results, cancellation."""

import asyncio

import pytest
from sqlalchemy import text

from db.edge.store import SQLITE_POOL, make_edge_engine
from db.edge.threaded import ThreadedEngine


@pytest.fixture
async def engine(tmp_path):
    """A threaded edge engine on a fresh SQLite file with one table."""
    engine = make_edge_engine(f"sqlite+aiosqlite:///{tmp_path}/sub/edge.db")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)"))
    yield engine
    await engine.dispose()


async def test_an_sqlite_edge_engine_runs_on_threads_with_the_stdlib_driver(engine):
    assert isinstance(engine, ThreadedEngine)
    assert engine.dialect.name == "sqlite" and engine.dialect.driver == "pysqlite"
    assert (engine.pool.size(), engine.pool._max_overflow) == SQLITE_POOL


async def test_results_come_back_buffered_with_rowcounts(engine):
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO t (k, v) VALUES (:k, :v)"), [{"k": k, "v": str(k)} for k in range(5)]
        )
        updated = await conn.execute(text("UPDATE t SET v = 'x' WHERE k < 3"))
    assert updated.rowcount == 3
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT k, v FROM t ORDER BY k"))).all()
        count = await conn.scalar(text("SELECT count(*) FROM t"))
        none = (await conn.execute(text("SELECT v FROM t WHERE k = 99"))).scalar_one_or_none()
    assert [(r.k, r.v) for r in rows] == [(0, "x"), (1, "x"), (2, "x"), (3, "3"), (4, "4")]
    assert (count, none) == (5, None)


async def test_begin_commits_and_rolls_back_on_an_error(engine):
    with pytest.raises(RuntimeError):
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (k, v) VALUES (1, 'lost')"))
            raise RuntimeError("boom")
    async with engine.connect() as conn:  # no commit: rolled back when the connection goes back to the pool
        await conn.execute(text("INSERT INTO t (k, v) VALUES (2, 'lost too')"))
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t (k, v) VALUES (3, 'kept')"))
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT k FROM t"))).scalars().all() == [3]


async def test_a_cancelled_caller_leaves_its_connection_usable(engine):
    async def slow():
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (k, v) VALUES (1, 'cancelled')"))
            # A query that takes a while on the worker thread, cancelled while it runs.
            await conn.execute(
                text(
                    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) SELECT count(*) FROM c"
                )
            )

    task = asyncio.create_task(slow())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(2 * sum(SQLITE_POOL)):  # every pooled connection again: none is left in a transaction
        async with engine.begin() as conn:
            assert await conn.scalar(text("SELECT count(*) FROM t")) == 0


async def test_autocommit_and_run_sync(engine):
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM"))  # refused inside a transaction
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t (k, v) VALUES (7, 'seven')"))
        assert (
            await conn.run_sync(
                lambda sync, k: sync.execute(text("SELECT v FROM t WHERE k = :k"), {"k": k}).scalar(), 7
            )
            == "seven"
        )


async def test_a_connection_checked_out_for_a_cancelled_caller_goes_back_to_the_pool(engine):
    async def hold(entered: asyncio.Event, release: asyncio.Event):
        async with engine.connect():
            entered.set()
            await release.wait()

    release = asyncio.Event()
    holders = [asyncio.Event() for _ in range(sum(SQLITE_POOL))]
    tasks = [asyncio.create_task(hold(entered, release)) for entered in holders]
    for entered in holders:  # every connection the pool allows is out
        await entered.wait()
    waiting = asyncio.create_task(hold(asyncio.Event(), release))
    await asyncio.sleep(0.1)  # ... so this one waits on its worker thread for a connection
    waiting.cancel()
    release.set()  # the waiting thread gets a connection now, for a caller that is gone
    await asyncio.gather(*tasks)
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await asyncio.sleep(0.2)
    assert engine.pool.checkedout() == 0
