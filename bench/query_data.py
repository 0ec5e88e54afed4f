"""Data of `meterit bench query`: a throwaway database, a fleet of sites and meters, COPY-loaded readings."""

import itertools
import logging
import math
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import asyncpg

from db.central.storage.partitions import ensure_partitions
from db.clock import utcnow
from db.migrate import upgrade

logger = logging.getLogger(__name__)

ZONES = ("Europe/Berlin", "America/New_York", "UTC", "Asia/Tokyo")
COLUMNS = ["point_id", "ts", "value", "quality"]


@dataclass
class Fleet:
    """Ids of what was created: sites, each site's meters and each meter's (energy, power) points."""

    site_ids: list[int] = field(default_factory=list)
    meters: dict[int, list[int]] = field(default_factory=dict)  # site -> meter ids
    points: dict[int, tuple[int, int]] = field(default_factory=dict)  # meter -> (total_kwh, power_kw)
    external: dict[int, str] = field(default_factory=dict)  # meter -> external id

    def all_points(self) -> list[int]:
        """Every point id, energy and power."""
        return [p for pair in self.points.values() for p in pair]


async def create_database(admin_url: str) -> tuple[str, str]:
    """A fresh database named meterit_bench_*; returns (name, asyncpg URL)."""
    name = f"meterit_bench_query_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name, admin_url.rsplit("/", 1)[0] + "/" + name


async def drop_database(admin_url: str, name: str) -> None:
    """Drop the benchmark's database."""
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def migrate(url: str) -> None:
    """Create the central schema."""
    upgrade("central", url.replace("postgresql://", "postgresql+asyncpg://", 1))


async def create_fleet(conn: asyncpg.Connection, sites: int, meters: int) -> Fleet:
    """Sites in several time zones, meters spread over them, two points per meter."""
    fleet = Fleet()
    for n in range(sites):
        site_id = await conn.fetchval(
            "INSERT INTO sites (name, timezone, key_prefix, key_hash, is_active, maintenance, status, health,"
            " collection_interval_seconds, created_at) VALUES ($1, $2, $3, 'x', true, false, 'online', '{}',"
            " 60, now()) RETURNING id",
            f"bench-site-{n:03d}",
            ZONES[n % len(ZONES)],
            f"bq{n:06d}",
        )
        fleet.site_ids.append(site_id)
        fleet.meters[site_id] = []
    for n in range(meters):
        site_id = fleet.site_ids[n % sites]
        external = f"meter-{n:03d}"
        meter_id = await conn.fetchval(
            "INSERT INTO meters (site_id, external_id, name, enabled, discovered, config, created_at)"
            " VALUES ($1, $2, $2, true, false, '{}', now()) RETURNING id",
            site_id,
            external,
        )
        ids = []
        for name, unit, cumulative in (
            ("total_kwh", "kilowatt-hours", True),
            ("power_kw", "kilowatts", False),
        ):
            ids.append(
                await conn.fetchval(
                    "INSERT INTO data_points (meter_id, name, object_type, instance, property, unit, cumulative,"
                    " cov, discovered, created_at) VALUES ($1, $2, 'analog-input', 0, 'present-value', $3, $4,"
                    " false, false, now()) RETURNING id",
                    meter_id,
                    name,
                    unit,
                    cumulative,
                )
            )
        fleet.meters[site_id].append(meter_id)
        fleet.points[meter_id] = (ids[0], ids[1])
        fleet.external[meter_id] = external
    return fleet


async def read_fleet(conn: asyncpg.Connection) -> Fleet:
    """The fleet create_fleet made, read back from a kept database."""
    fleet = Fleet()
    for site_id, meter_id, external, energy_id, power_id in await conn.fetch(
        "SELECT s.id, m.id, m.external_id,"
        " max(dp.id) FILTER (WHERE dp.name = 'total_kwh'), max(dp.id) FILTER (WHERE dp.name = 'power_kw')"
        " FROM sites s JOIN meters m ON m.site_id = s.id JOIN data_points dp ON dp.meter_id = m.id"
        " WHERE s.name LIKE 'bench-site-%' GROUP BY 1, 2, 3 ORDER BY 1, 2"
    ):
        if site_id not in fleet.meters:
            fleet.site_ids.append(site_id)
            fleet.meters[site_id] = []
        fleet.meters[site_id].append(meter_id)
        fleet.points[meter_id] = (energy_id, power_id)
        fleet.external[meter_id] = external
    return fleet


def meter_rows(energy_id: int, power_id: int, start: datetime, minutes: int, seed: int):
    """One meter's readings, minute by minute: a daily power curve and its energy register."""
    rng = random.Random(seed)
    base, energy = rng.uniform(5, 50), rng.uniform(1_000, 100_000)
    step = timedelta(minutes=1)
    ts = start
    for n in range(minutes):
        hour = (n // 60) % 24
        power = base * (0.6 + 0.4 * math.sin(math.pi * hour / 24)) + rng.uniform(-1, 1)
        energy += power / 60
        yield (power_id, ts, power, 0)
        yield (energy_id, ts, round(energy, 3), 0)
        ts += step


async def load_readings(
    url: str, fleet: Fleet, start: datetime, minutes: int, tails: dict[int, list], tail_minutes: int
) -> float:
    """COPY `minutes` of every meter (generated on the fly); keep the next tail_minutes in tails for ingest."""
    conn = await asyncpg.connect(url)
    try:
        began = time.perf_counter()
        # One index build after the load is ~3x faster than maintaining the key row by row.
        await conn.execute("ALTER TABLE readings DROP CONSTRAINT readings_pkey")
        for meter_id, (energy_id, power_id) in fleet.points.items():
            rows = meter_rows(energy_id, power_id, start, minutes + tail_minutes, seed=meter_id)
            head = itertools.islice(rows, 2 * minutes)
            await conn.copy_records_to_table("readings", records=head, columns=COLUMNS)
            tails[meter_id] = list(rows)
        await conn.execute("ALTER TABLE readings ADD PRIMARY KEY (point_id, ts)")
        await conn.execute("ANALYZE readings")
        return time.perf_counter() - began
    finally:
        await conn.close()


async def create_partitions(engine, start: datetime) -> list[str]:
    """Monthly partitions from start's month to three months ahead (made before the load)."""
    now = utcnow()
    months_back = (now.year - start.year) * 12 + now.month - start.month
    async with engine.begin() as conn:
        return await conn.run_sync(lambda c: ensure_partitions(c, months_back=months_back, months_ahead=3))
