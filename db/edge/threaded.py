"""The SQLite edge engine: SQLAlchemy's synchronous engine on worker threads, behind the async calls the edge uses.

SQLAlchemy's asyncio layer (`sqlalchemy.ext.asyncio`) imports the ORM and greenlet: ~7 MB of the edge agent's
resident memory, which never uses a session. For SQLite the agent runs the same Core statements on the
stdlib `sqlite3` driver, each call on a worker thread as aiosqlite did, with the subset of `AsyncEngine` /
`AsyncConnection` the edge code uses: `async with engine.connect()` / `engine.begin()`, `await conn.execute()`,
`scalar()`, `commit()`, `rollback()`, `execution_options()`, `run_sync()`, `await engine.dispose()`.
Results come back buffered (rows fetched on the thread), as SQLAlchemy's asyncio results do.
PostgreSQL edges keep the asyncio engine (db/engine.py).
"""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from functools import partial

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, Result


def _buffered(result: Result) -> Result:
    """Rows fetched now (on the worker thread); results without rows (rowcount and all) as they are."""
    return result.freeze()() if result.returns_rows else result


class ThreadedConnection:
    """One pooled connection, each call made on the engine's worker threads, one at a time."""

    def __init__(self, engine: "ThreadedEngine", sync_connection: Connection) -> None:
        self.engine = engine
        self.sync_connection = sync_connection

    async def _call(self, fn, *args, **kwargs):
        return await self.engine._call(partial(fn, *args, **kwargs))

    async def execute(self, statement, parameters=None, *, execution_options=None) -> Result:
        """Execute a statement; its rows, if any, are fetched before this returns."""
        sync = self.sync_connection

        def run():
            return _buffered(sync.execute(statement, parameters, execution_options=execution_options))

        return await self.engine._call(run)

    async def exec_driver_sql(self, statement: str, parameters=None) -> Result:
        """A plain SQL string to the driver (as Connection.exec_driver_sql)."""
        sync = self.sync_connection
        return await self.engine._call(lambda: _buffered(sync.exec_driver_sql(statement, parameters)))

    async def scalar(self, statement, parameters=None):
        """The first column of the first row."""
        return (await self.execute(statement, parameters)).scalar()

    async def scalars(self, statement, parameters=None):
        """The first column of every row."""
        return (await self.execute(statement, parameters)).scalars()

    async def execution_options(self, **options) -> "ThreadedConnection":
        """Set options on this connection (e.g. isolation_level="AUTOCOMMIT"); returns it."""
        await self._call(self.sync_connection.execution_options, **options)
        return self

    async def commit(self) -> None:
        """Commit the transaction in progress."""
        await self._call(self.sync_connection.commit)

    async def rollback(self) -> None:
        """Roll back the transaction in progress."""
        await self._call(self.sync_connection.rollback)

    async def run_sync(self, fn, *args, **kwargs):
        """fn(sync_connection, *args, **kwargs) on a worker thread (as AsyncConnection.run_sync)."""
        return await self._call(fn, self.sync_connection, *args, **kwargs)

    @property
    def dialect(self):
        """The engine's dialect."""
        return self.engine.dialect


class ThreadedEngine:
    """A synchronous SQLAlchemy engine used from asyncio: each database call runs on a worker thread."""

    def __init__(self, sync_engine: Engine, threads: int) -> None:
        self.sync_engine = sync_engine
        self._threads = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="edge-db")

    @property
    def dialect(self):
        """The engine's dialect."""
        return self.sync_engine.dialect

    @property
    def url(self):
        """The engine's URL."""
        return self.sync_engine.url

    @property
    def pool(self):
        """The engine's connection pool."""
        return self.sync_engine.pool

    async def _call(self, fn, discard=None):
        # A cancelled caller still waits for its call to finish: the connection is then free for the
        # rollback and return to the pool that follow, never used by two threads at once. What a cancelled
        # call returned goes to `discard` (a connection checked out for nobody goes back to the pool).
        future = asyncio.get_running_loop().run_in_executor(self._threads, fn)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            await asyncio.wait([future])
            if discard is not None and not future.cancelled() and future.exception() is None:
                self._threads.submit(discard, future.result())
            raise

    @asynccontextmanager
    async def connect(self):
        """A pooled connection, rolled back (unless committed) and returned to the pool at the end."""
        sync = await self._call(self.sync_engine.connect, discard=Connection.close)
        try:
            yield ThreadedConnection(self, sync)
        finally:
            await self._call(sync.close)

    @asynccontextmanager
    async def begin(self):
        """A connection in a transaction: committed at the end, rolled back on an error."""
        async with self.connect() as conn:
            try:
                yield conn
            except BaseException:
                await self._call(conn.sync_connection.rollback)
                raise
            await self._call(conn.sync_connection.commit)

    async def dispose(self) -> None:
        """Close the pooled connections (the engine stays usable, as AsyncEngine.dispose)."""
        await self._call(self.sync_engine.dispose)

    def __repr__(self) -> str:
        return f"ThreadedEngine({self.sync_engine.url!r})"


def make_threaded_sqlite_engine(url: str, pool: tuple[int, int], connect_listeners=()) -> ThreadedEngine:
    """A ThreadedEngine on the stdlib sqlite3 driver, with `pool` (kept, extra while needed) connections."""
    engine = create_engine(
        url, connect_args={"timeout": 30, "check_same_thread": False}, pool_size=pool[0], max_overflow=pool[1]
    )
    for listener in connect_listeners:
        event.listen(engine, "connect", listener)
    return ThreadedEngine(engine, threads=pool[0] + pool[1])
