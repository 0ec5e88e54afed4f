"""Helpers of the energy tests: a private event loop per module, points in a real database, a reference."""

import asyncio
import contextlib
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from db.central import energy_fold
from db.central.ingest.batch import insert_rows
from db.central.models import DataPoint, Meter, Site
from db.central.rollups.models import DailyRollup, HourlyRollup
from db.central.rollups.refresh import refresh_rollups
from db.engine import make_engine, make_sessionmaker, session_scope
from tests.support.native import require_built

TICK = timedelta(microseconds=1)
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


async def ingest(db: Db, point_id: int, batch: list[tuple[datetime, float, int]]) -> None:
    """Insert one batch like the ingest path does (duplicates ignored) and refresh its rollups."""
    async with session_scope(db.sessions) as session:
        await insert_rows(session, [(point_id, ts, value, q) for ts, value, q in batch])
        stamps = [ts for ts, _, _ in batch]
        await refresh_rollups(session, {point_id: (min(stamps), max(stamps))})


async def rollups(db: Db, point_id: int) -> tuple[dict, dict]:
    """Hourly rows by bucket and daily rows by day, as plain dicts."""
    async with session_scope(db.sessions) as session:
        hourly = (await session.scalars(select(HourlyRollup).where(HourlyRollup.point_id == point_id))).all()
        daily = (await session.scalars(select(DailyRollup).where(DailyRollup.point_id == point_id))).all()
    return {h.bucket: h.model_dump() for h in hourly}, {d.day: d.model_dump() for d in daily}


def reference_step(prev: float, cur: float, rollover: float | None) -> tuple[float, bool]:
    """Consumption of one interval and whether it was a reset/rollover, restated from the rules."""
    if cur >= prev:
        return cur - prev, False
    if rollover is not None and 0 <= rollover - prev + cur <= rollover / 2:
        return rollover - prev + cur, True
    if cur < prev / 2:
        return max(cur, 0.0), True
    return 0.0, False


def reference(readings, key, *, cumulative=True, rollover=None, max_gap=None) -> dict:
    """Expected rollup rows: key(ts) names the bucket; deltas go to the bucket of (end - 1 µs)."""
    first_seen = {}
    for ts, value, q in sorted(readings, key=lambda r: (r[0], r[2], r[1])):
        first_seen.setdefault(ts, (ts, value, q))
    rows = list(first_seen.values())
    out = defaultdict(lambda: {"values": [], "good": 0, "deltas": [], "resets": 0, "gaps": 0})
    for ts, value, q in rows:
        out[key(ts)]["values"].append((ts, value))
        out[key(ts)]["good"] += q == 0
    usable = [r for r in rows if r[2] < 2]
    for (t0, v0, _), (t1, v1, _) in zip(usable, usable[1:], strict=False):
        delta, wrapped = reference_step(v0, v1, rollover)
        bucket = out[key(t1 - TICK)]
        bucket["deltas"].append(delta)
        bucket["resets"] += wrapped
        bucket["gaps"] += max_gap is not None and t1 - t0 > max_gap
    expected = {}
    for bucket, agg in out.items():
        if not agg["values"] and not agg["gaps"] and not (cumulative and agg["deltas"]):
            continue  # nothing to say about this bucket: no row
        values = [v for _, v in agg["values"]]
        expected[bucket] = {
            "count": len(values),
            "good_count": agg["good"],
            "min_value": min(values) if values else None,
            "max_value": max(values) if values else None,
            "sum_value": sum(values),
            "first_value": agg["values"][0][1] if values else None,
            "last_value": agg["values"][-1][1] if values else None,
            "consumption": sum(agg["deltas"]) if cumulative and agg["deltas"] else None,
            "reset_count": agg["resets"] if cumulative else 0,
            "gap_count": agg["gaps"],
        }
    return expected


def utc_hour(ts: datetime) -> datetime:
    """Bucket key of the hourly rollup."""
    return ts.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def local_date(timezone: str):
    """Bucket key of the daily rollup of a site in timezone."""
    zone = ZoneInfo(timezone)
    return lambda ts: ts.astimezone(zone).date()


def assert_matches(actual: dict, expected: dict) -> None:
    """Every expected bucket is there with the same figures (floats to 1e-6), and no other."""
    assert set(actual) == set(expected), sorted(set(actual) ^ set(expected))
    for bucket, want in expected.items():
        got = actual[bucket]
        for name, value in want.items():
            if isinstance(value, float):
                assert got[name] is not None and abs(got[name] - value) <= 1e-6 * max(1.0, abs(value)), (
                    bucket,
                    name,
                    got[name],
                    value,
                )
            else:
                assert got[name] == value, (bucket, name, got[name], value)
