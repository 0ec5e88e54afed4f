"""Helpers of the energy tests: a private event loop per module, points in a real database, the fold forms."""

import asyncio
import contextlib
import uuid
from datetime import datetime

from db.central import energy_fold
from db.central.ingest.batch import insert_rows
from db.central.models import DataPoint, Meter, Site
from db.central.rollups.queue import flush_rollups, record_dirty
from db.engine import make_engine, make_sessionmaker, session_scope
from tests.support.native import require_built

FOLD_FORMS = ("native", "python")  # db/central/_fold.c, and the Python forms it must equal


@contextlib.contextmanager
def fold_form(form: str):
    """Fold with the C loops ("native", skipped where not built, except in CI) or the Python forms within."""
    saved = energy_fold.native
    if form == "native":
        require_built(saved, "db/central/_fold.c")
    if form == "python":
        energy_fold.native = None
    try:
        yield
    finally:
        energy_fold.native = saved


class Db:
    """One engine on its own event loop, so sync (hypothesis) tests can drive it example after example."""

    def __init__(self, url: str):
        self.loop = asyncio.new_event_loop()
        self.engine = make_engine(url)
        self.sessions = make_sessionmaker(self.engine)

    def run(self, coro):
        """Run a coroutine on this database's loop."""
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        """Dispose the engine and close the loop."""
        self.run(self.engine.dispose())
        self.loop.close()

    def __enter__(self) -> "Db":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


async def make_site(db: Db, timezone: str = "UTC") -> int:
    """A fresh site (no usable key); returns its id."""
    async with session_scope(db.sessions) as session:
        tag = uuid.uuid4().hex[:10]
        site = Site(name=f"s-{tag}", timezone=timezone, key_prefix=tag, key_hash="x")
        session.add(site)
        await session.flush()
        return site.id


async def make_point(
    db: Db,
    timezone: str = "UTC",
    cumulative: bool = True,
    rollover: float | None = None,
    unit: str = "kilowatt-hours",
    site_id: int | None = None,
    name: str = "total_kwh",
) -> int:
    """A fresh site (unless given), meter and data point; returns the point id."""
    if site_id is None:
        site_id = await make_site(db, timezone)
    async with session_scope(db.sessions) as session:
        config = {"rollover": {name: rollover}} if rollover else {}
        meter = Meter(site_id=site_id, external_id=f"m-{uuid.uuid4().hex[:8]}", name="m", config=config)
        session.add(meter)
        await session.flush()
        point = DataPoint(meter_id=meter.id, name=name, unit=unit, cumulative=cumulative)
        session.add(point)
        await session.flush()
        return point.id


async def ingest(
    db: Db, point_id: int, batch: list[tuple[datetime, float, int]], *, fold: bool = False
) -> None:
    """Store one batch as the ingest path does (duplicates ignored); with fold, queue its range and fold the
    queue into the energy summary, as an upload and the API's worker do."""
    async with session_scope(db.sessions) as session:
        await insert_rows(session, [(point_id, ts, value, q) for ts, value, q in batch])
        if fold:
            stamps = [ts for ts, _, _ in batch]
            await record_dirty(session, 0, {point_id: (min(stamps), max(stamps))})
    if fold:
        await flush_rollups(db.sessions)
