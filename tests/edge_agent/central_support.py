"""Helpers of the uploader tests: sites in central's database and what central stored for them."""

import uuid
from datetime import UTC, datetime

import asyncpg

from db.central.sites import create_site
from db.engine import make_engine, make_sessionmaker, session_scope


async def new_site(central_url: str) -> tuple[int, str]:
    """Create a uniquely named site in central's database; returns (site id, API key)."""
    engine = make_engine(central_url, pool_size=1)
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            created = await create_site(session, f"edge-test-{uuid.uuid4().hex[:10]}")
            return created.site.id, created.api_key
    finally:
        await engine.dispose()


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def stored_keys(central_url: str, site_id: int) -> list[tuple[str, str, datetime]]:
    """Every (meter external id, point, ts) central holds for the site (a list: duplicates would show)."""
    conn = await asyncpg.connect(_plain(central_url))
    try:
        rows = await conn.fetch(
            """SELECT m.external_id, p.name, r.ts FROM readings r
               JOIN data_points p ON p.id = r.point_id JOIN meters m ON m.id = p.meter_id
               WHERE m.site_id = $1""",
            site_id,
        )
    finally:
        await conn.close()
    return [(r[0], r[1], r[2].astimezone(UTC)) for r in rows]
