"""The typed context every resolver receives: settings, database sessions, pub/sub and the caller."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.realtime.pubsub import PubSub
from api.services.access import Scope
from api.settings import CentralSettings
from db.central.models import User
from db.central.sites import SiteIdentity
from db.engine import session_scope


@dataclass
class Context:
    """Per-request (or per-websocket) state; `site` is set for a site key, `user` for a dashboard token."""

    settings: CentralSettings
    sessions: async_sessionmaker[AsyncSession]
    pubsub: PubSub
    request: Any = None
    response: Any = None
    site: SiteIdentity | None = None
    user: User | None = None
    scope: Scope | None = None  # the sites a user may read and manage (api/services/access.py)
    connection_params: dict | None = field(default=None)
    caches: Any = None  # api.realtime.cache.Caches of this worker (None: read through)
    login_guard: Any = None  # api/login_guard.py: SharedLoginGuard (PostgreSQL) or LoginGuard (SQLite)
    ws_token: str | None = (
        None  # a websocket's token, re-checked on each subscribe (api/realtime/ws_sessions.py)
    )

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """One committed transaction."""
        async with session_scope(self.sessions) as session:
            yield session
