"""What happened, read back from the files and databases: served values, committed, central, dead letters."""

import asyncio
import json
import math
import re
import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from db.clock import clock
from db.engine import make_engine

# (meter external id, point, UTC timestamp to the microsecond, value): the identity of a reading
Key = tuple[str, str, str, float]

CENTRAL_SQL = (
    "SELECT m.external_id, p.name, r.ts, r.value, r.quality FROM readings r "
    "JOIN data_points p ON p.id = r.point_id JOIN meters m ON m.id = p.meter_id"
)
LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) ")


def utc_text(ts: datetime | str) -> str:
    """A timestamp from any database as UTC ISO text to the microsecond."""
    if isinstance(ts, str):
        ts = datetime.fromisoformat(ts)
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass
class Served:
    """One value a simulated meter put on the wire."""

    meter: str
    point: str
    value: float
    at: datetime


def served_values(record: Path, meters_file: Path) -> list[Served]:
    """Every value the simulator served (its --record file), by meter external id."""
    by_device = {m["bacnet_device_id"]: m["id"] for m in json.loads(meters_file.read_text())["meters"]}
    served = []
    for line in record.read_text().splitlines():
        if line.strip():
            item = json.loads(line)
            served.append(Served(by_device[item["device_id"]], item["point"], float(item["value"]),
                                 datetime.fromisoformat(item["served_at"])))  # fmt: skip
    return served


def edge_rows(db_path: Path, sql: str) -> list[tuple]:
    """Rows of one query on an edge's SQLite file (read-only)."""
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30) as conn:
        return conn.execute(sql).fetchall()


def committed(db_path: Path) -> set[Key]:
    """What the edge's collector committed (recent_readings is written in the outbox's transaction)."""
    rows = edge_rows(db_path, "SELECT meter_external_id, data_point, ts, value FROM recent_readings")
    return {(m, p, utc_text(ts), float(v)) for m, p, ts, v in rows}


def dead_letters(db_path: Path) -> dict[Key, str]:
    """Readings central refused, with the reason it gave."""
    rows = edge_rows(db_path, "SELECT meter_external_id, data_point, ts, value, reason FROM dead_letters")
    return {(m, p, utc_text(ts), float(v)): reason for m, p, ts, v, reason in rows}


def integrity(db_path: Path) -> str:
    """PRAGMA integrity_check of an edge database ('ok' when sound)."""
    return "; ".join(str(r[0]) for r in edge_rows(db_path, "PRAGMA integrity_check"))


def outbox_depth(db_path: Path) -> int:
    """Readings waiting in an edge's outbox."""
    return edge_rows(db_path, "SELECT count(*) FROM outbox")[0][0]


def query(url: str, sql: str) -> list[tuple]:
    """Rows of one query on central."""

    async def _run() -> list[tuple]:
        engine = make_engine(url)
        try:
            async with engine.connect() as conn:
                return [tuple(r) for r in (await conn.execute(text(sql))).all()]
        finally:
            await engine.dispose()

    return asyncio.run(_run())


def central_readings(url: str) -> tuple[list[Key], dict[Key, int]]:
    """Every row of central's readings (a duplicate row would appear twice) and each key's quality."""
    rows = query(url, CENTRAL_SQL)
    keys = [(m, p, utc_text(ts), float(v)) for m, p, ts, v, _ in rows]
    return keys, {(m, p, utc_text(ts), float(v)): q for m, p, ts, v, q in rows}


def log_lines(path: Path, pattern: str) -> list[tuple[datetime, str]]:
    """(time on the soak's clock, line) of the log lines holding pattern (the `meterit` stdout format, UTC).

    The stdout format stamps system time; served values, kills and stops are on the soak's clock, which a dated
    run (METERIT_CLOCK_AT) places elsewhere: the lines are moved by the clock's offset to meet them."""
    found = []
    if not path.exists():
        return found
    shift = clock().offset
    for line in path.read_text(errors="replace").splitlines():
        if pattern in line and (match := LOG_TIME.match(line)):
            at = datetime.fromisoformat(f"{match[1]}.{match[2]}").replace(tzinfo=UTC) + shift
            found.append((at, line))
    return found


def finite(value: float) -> bool:
    """True for a number a reading can hold."""
    return math.isfinite(value)


def values_by_point(keys) -> dict[tuple[str, str], set[float]]:
    """{(meter, point): values} of readings or served values."""
    out: dict[tuple[str, str], set[float]] = defaultdict(set)
    for item in keys:
        if isinstance(item, Served):
            out[(item.meter, item.point)].add(item.value)
        else:
            out[(item[0], item[1])].add(item[3])
    return out
