"""Edge database access besides the outbox: meters, agent state, sync log, dead letters, recent readings."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.engine import Row, make_url

from db.clock import utcnow
from db.edge.models import DEAD, METERS, RECENT, STATE, SYNC_LOG
from db.edge.threaded import ThreadedEngine, make_threaded_sqlite_engine
from db.engine import (
    ensure_sqlite_dir,
    is_sqlite,
    make_engine,
    normalize_url,
    sqlite_connect_listeners,
    upsert_insert,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    EdgeEngine = ThreadedEngine | AsyncEngine

# SQLite: 2 connections kept open (the writer and a reader: WAL lets them run side by side; SQLite takes one
# writer at a time anyway) and up to 13 more while needed, as SQLAlchemy's 5 + 10 allowed: a writer waiting for
# SQLite's lock holds its connection, and with 5 in all the local API's reads could wait for one under load.
# Each has its own page cache, 1 MiB instead of SQLite's 2,000 KiB (an outbox count fills it); the calls run on
# as many worker threads. Durability is untouched: WAL with synchronous=FULL (db/engine.py).
SQLITE_POOL = (2, 13)
SQLITE_CACHE_KIB = 1024


def make_edge_engine(url: str) -> EdgeEngine:
    """The edge database's engine: SQLite (WAL, synchronous=FULL) on threads, or PostgreSQL (asyncpg) by URL.

    SQLite runs on the stdlib driver without SQLAlchemy's asyncio layer (db/edge/threaded.py); both engines
    take the same `async with engine.begin() as conn: await conn.execute(...)`.
    """
    if not is_sqlite(url):
        return make_engine(url)
    url = normalize_url(url)
    ensure_sqlite_dir(url)
    sync_url = make_url(url).set(drivername="sqlite")
    return make_threaded_sqlite_engine(sync_url, SQLITE_POOL, sqlite_connect_listeners(SQLITE_CACHE_KIB))


def _upsert(engine: EdgeEngine, table, key: str, row: dict):
    stmt = upsert_insert(engine, table).values(**row)
    return stmt.on_conflict_do_update(index_elements=[key], set_={k: v for k, v in row.items() if k != key})


async def get_state(engine: EdgeEngine, key: str) -> dict | None:
    """A value stored in agent_state, or None."""
    async with engine.connect() as conn:
        return (await conn.execute(select(STATE.c.value).where(STATE.c.key == key))).scalar_one_or_none()


async def set_state(engine: EdgeEngine, key: str, value: dict) -> None:
    """Store a value in agent_state (survives restarts)."""
    async with engine.begin() as conn:
        await conn.execute(
            _upsert(engine, STATE, "key", {"key": key, "value": value, "updated_at": utcnow()})
        )


async def replace_meters(engine: EdgeEngine, meters: list[dict], source: str) -> None:
    """Make the meters table hold exactly these meters (keeping health columns of those that stay)."""
    async with engine.begin() as conn:
        keep = [m["external_id"] for m in meters]
        await conn.execute(delete(METERS).where(METERS.c.external_id.not_in(keep)))
        for meter in meters:
            row = {
                "external_id": meter["external_id"],
                "name": meter["name"],
                "bacnet_device_id": meter.get("bacnet_device_id"),
                "bacnet_address": meter.get("bacnet_address"),
                "config": meter.get("config", {}),
                "enabled": meter.get("enabled", True),
                "source": source,
            }
            await conn.execute(_upsert(engine, METERS, "external_id", row))


async def list_meters(engine: EdgeEngine) -> list[Row]:
    """Every known meter, by external id (rows with the `meters` columns as attributes)."""
    async with engine.connect() as conn:
        return list((await conn.execute(select(METERS).order_by(METERS.c.external_id))).all())


async def record_meter_health(engine: EdgeEngine, health: list[dict]) -> None:
    """Store reachability, last error and last reading time per meter (dicts keyed by column name)."""
    if not health:
        return
    async with engine.begin() as conn:
        for item in health:
            values = {k: v for k, v in item.items() if k != "external_id"}
            await conn.execute(
                update(METERS).where(METERS.c.external_id == item["external_id"]).values(**values)
            )


async def add_sync_log(engine: EdgeEngine, entry: dict) -> None:
    """Append one upload attempt to the sync log."""
    async with engine.begin() as conn:
        await conn.execute(SYNC_LOG.insert().values(**entry))


async def list_sync_log(engine: EdgeEngine, limit: int = 50) -> list[Row]:
    """The latest sync log entries, newest first."""
    query = select(SYNC_LOG).order_by(SYNC_LOG.c.id.desc()).limit(limit)
    async with engine.connect() as conn:
        return list((await conn.execute(query)).all())


async def list_dead_letters(engine: EdgeEngine, limit: int = 100, include_handled: bool = False) -> list[Row]:
    """Readings central rejected, newest first."""
    query = select(DEAD).order_by(DEAD.c.id.desc()).limit(limit)
    if not include_handled:
        query = query.where(DEAD.c.handled.is_(False))
    async with engine.connect() as conn:
        return list((await conn.execute(query)).all())


async def mark_dead_letters_handled(engine: EdgeEngine, ids: list[int]) -> int:
    """Mark dead letters as dealt with (they leave the list and the count); returns how many changed."""
    if not ids:
        return 0
    async with engine.begin() as conn:
        done = await conn.execute(
            update(DEAD).where(DEAD.c.id.in_(ids), DEAD.c.handled.is_(False)).values(handled=True)
        )
    return done.rowcount or 0


async def count_dead_letters(engine: EdgeEngine) -> int:
    """Number of unhandled dead letters."""
    query = select(func.count()).select_from(DEAD).where(DEAD.c.handled.is_(False))
    async with engine.connect() as conn:
        return (await conn.execute(query)).scalar_one()


async def recent_readings(
    engine: EdgeEngine,
    meter: str,
    point: str | None = None,
    since: datetime | None = None,
    limit: int = 10_000,
) -> list[Row]:
    """Readings of one meter (optionally one point) since a time (default: 24 h), oldest first."""
    since = since or utcnow() - timedelta(hours=24)
    query = select(RECENT).where(RECENT.c.meter_external_id == meter, RECENT.c.ts >= since)
    if point:
        query = query.where(RECENT.c.data_point == point)
    query = query.order_by(RECENT.c.ts, RECENT.c.data_point).limit(limit)
    async with engine.connect() as conn:
        return list((await conn.execute(query)).all())


async def purge(engine: EdgeEngine, sync_log_days: float = 30, recent_hours: float = 24) -> dict:
    """Delete sync log entries and recent readings past their retention; returns rows deleted per table."""
    now = utcnow()
    async with engine.begin() as conn:
        logs = await conn.execute(
            delete(SYNC_LOG).where(SYNC_LOG.c.started_at < now - timedelta(days=sync_log_days))
        )
        recent = await conn.execute(delete(RECENT).where(RECENT.c.ts < now - timedelta(hours=recent_hours)))
    return {"sync_log": logs.rowcount, "recent_readings": recent.rowcount}


async def vacuum(engine: EdgeEngine) -> None:
    """Compact the database (VACUUM needs autocommit on both dialects)."""
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        if engine.dialect.name == "sqlite":
            await conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            await conn.execute(text("VACUUM"))
        else:
            await conn.execute(text("VACUUM (ANALYZE) outbox, recent_readings, sync_log"))
