"""Tell every central API worker's caches (api/realtime/cache.py) that what they hold changed, at commit.

A PostgreSQL NOTIFY on api/realtime/pubsub.py's "cache" channel, sent inside the writing transaction: it reaches the
workers only if the change commits, whichever process made it (API, MCP server, `meterit` commands).
"""

import json

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

CHANNEL = "meterit_cache"  # api/realtime/pubsub.py: PG_CHANNEL_PREFIX + "cache"
_NOTIFY = text("SELECT pg_notify(:channel, :payload)")


async def _announce(session: AsyncSession, payload: dict) -> None:
    if session.bind.dialect.name == "postgresql":
        await session.execute(_NOTIFY, {"channel": CHANNEL, "payload": json.dumps(payload)})


async def sites_changed(session: AsyncSession) -> None:
    """Sites were created or changed: every worker drops its cached sites list."""
    await _announce(session, {"cache": "site_status"})


async def site_config_changed(session: AsyncSession, site_id: int) -> None:
    """A site's meters, points or collection interval changed: every worker drops its siteConfig and sites list."""
    await _announce(session, {"cache": "meter_config", "site_id": site_id})
