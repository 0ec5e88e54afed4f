"""Helpers for end-to-end tests: a central database with a site, `meterit` subprocesses, edge outbox access."""

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from db.central.sites import create_site
from db.clock import utcnow
from db.edge.outbox import Outbox, Reading
from db.engine import make_engine, make_sessionmaker, session_scope
from db.migrate import upgrade

REPO_ROOT = Path(__file__).resolve().parents[2]


def central_with_site(url: str, name: str = "E2E site") -> str:
    """Migrate a central database, create a site, and return its API key."""
    upgrade("central", url)

    async def _create() -> str:
        engine = make_engine(url)
        async with session_scope(make_sessionmaker(engine)) as session:
            created = await create_site(session, name)
        await engine.dispose()
        return created.api_key

    return asyncio.run(_create())


def query_rows(url: str, sql: str, **params) -> list[tuple]:
    """Rows of one SQL query (any dialect)."""

    async def _run() -> list[tuple]:
        engine = make_engine(url)
        async with engine.connect() as conn:
            rows = [tuple(row) for row in (await conn.execute(text(sql), params)).all()]
        await engine.dispose()
        return rows

    return asyncio.run(_run())


CENTRAL_KEYS_SQL = (
    "SELECT m.external_id, p.name, r.ts, r.value FROM readings r "
    "JOIN data_points p ON p.id = r.point_id JOIN meters m ON m.id = p.meter_id"
)
EDGE_COLLECTED_SQL = "SELECT meter_external_id, data_point, ts, value FROM recent_readings"


def as_key_set(rows: list[tuple]) -> set[tuple]:
    """(meter, point, ts in UTC µs) of each row: the identity of a reading across databases."""
    keys = set()
    for meter, point, ts, *_ in rows:
        if isinstance(ts, str):
            ts = datetime.fromisoformat(ts)
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=UTC)
        keys.add((meter, point, ts.astimezone(UTC).isoformat(timespec="microseconds")))
    return keys


def fill_outbox(url: str, count: int, meter: str = "tls-meter") -> None:
    """Put `count` readings a minute apart into a migrated edge database's outbox."""

    async def _fill() -> None:
        engine = make_engine(url)
        outbox = Outbox(engine)
        await outbox.open()
        start = utcnow().replace(microsecond=0) - timedelta(minutes=count + 1)
        await outbox.add(
            [
                Reading(meter, "total_kwh", start + timedelta(minutes=i), 100.0 + i, "kWh")
                for i in range(count)
            ]
        )
        await engine.dispose()

    asyncio.run(_fill())


def outbox_depth(url: str) -> int:
    """Readings waiting in an edge database's outbox."""
    return query_rows(url, "SELECT count(*) FROM outbox")[0][0]


def meterit(
    *args: str, env: dict[str, str], timeout: float = 120, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    """Run one `meterit` command to completion."""
    return subprocess.run(
        [sys.executable, "-m", "meterit.cli", *args],
        env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
        cwd=cwd or REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def spawn(*args: str, env: dict[str, str], log: Path, cwd: Path | None = None) -> subprocess.Popen:
    """Start a long-running `meterit` command with its output in a log file."""
    handle = open(log, "ab")  # noqa: SIM115 (the child owns it)
    return subprocess.Popen(
        [sys.executable, "-m", "meterit.cli", *args],
        env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
        cwd=cwd or REPO_ROOT,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
