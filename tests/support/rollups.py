"""A test's own central database for the fold queue: an engine on it and a bare site."""

import contextlib
import uuid

from db.central.models import Site
from db.engine import make_engine, make_sessionmaker, session_scope


@contextlib.asynccontextmanager
async def private_engine(url: str, pool_size: int):
    """An engine on the test's own database and its sessionmaker, disposed at the end."""
    engine = make_engine(url, pool_size=pool_size)
    try:
        yield engine, make_sessionmaker(engine)
    finally:
        await engine.dispose()


async def new_site(sessions) -> int:
    """A site with a random name and no usable key; its id."""
    async with session_scope(sessions) as session:
        tag = uuid.uuid4().hex[:10]
        site = Site(name=f"q-{tag}", timezone="UTC", key_prefix=tag, key_hash="x")
        session.add(site)
        await session.flush()
        return site.id
