"""Time partitioning of central readings on PostgreSQL (monthly ranges, created ahead by the server).

Retention drops a whole month's partition (instant, no vacuum debt) instead of deleting rows. Rows older
than the first partition land in readings_default; create partitions for history before a bulk import.
"""

import logging
from datetime import UTC, date, datetime, time

from sqlalchemy import text
from sqlalchemy.engine import Connection

from db.clock import clock

logger = logging.getLogger(__name__)

READINGS_COLUMNS = """
    point_id bigint NOT NULL,
    ts timestamptz NOT NULL,
    value double precision NOT NULL,
    quality smallint NOT NULL DEFAULT 0,
    PRIMARY KEY (point_id, ts)
"""


def month_start(day: date, shift: int = 0) -> date:
    """First day of the month `shift` months from day's month."""
    index = day.year * 12 + day.month - 1 + shift
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    """Name of the partition holding one month."""
    return f"readings_y{month.year:04d}m{month.month:02d}"


def create_partitioned_readings(conn: Connection) -> None:
    """Create the partitioned readings table with a default partition and the months around now."""
    conn.execute(text(f"CREATE TABLE readings ({READINGS_COLUMNS}) PARTITION BY RANGE (ts)"))
    conn.execute(text("CREATE TABLE readings_default PARTITION OF readings DEFAULT"))
    ensure_partitions(conn)


def ensure_partitions(
    conn: Connection, months_back: int = 1, months_ahead: int = 3, today: date | None = None
) -> list[str]:
    """Create missing monthly partitions from months_back before to months_ahead after today."""
    if conn.dialect.name != "postgresql":
        return []
    today = today or clock().today()
    created = []
    for shift in range(-months_back, months_ahead + 1):
        start, end = month_start(today, shift), month_start(today, shift + 1)
        name = partition_name(start)
        exists = conn.execute(text("SELECT to_regclass(:n)"), {"n": name}).scalar()
        if exists:
            continue
        _create_partition(conn, name, start, end)
        created.append(name)
    if created:
        logger.info("created readings partitions %s", ", ".join(created))
    return created


def _create_partition(conn: Connection, name: str, start: date, end: date) -> None:
    """Create one month's partition; rows of that month already in readings_default move into it."""
    bounds = {"s": datetime.combine(start, time(), UTC), "e": datetime.combine(end, time(), UTC)}
    create = text(
        f"CREATE TABLE {name} PARTITION OF readings "
        f"FOR VALUES FROM ('{start.isoformat()} 00:00:00+00') TO ('{end.isoformat()} 00:00:00+00')"
    )
    stranded = conn.execute(
        text("SELECT EXISTS (SELECT 1 FROM readings_default WHERE ts >= :s AND ts < :e)"),
        bounds,
    ).scalar()
    if not stranded:
        conn.execute(create)
        return
    # PostgreSQL refuses a new partition whose range has rows in the default partition: detach the
    # default, create the month, move its rows over, reattach (all in the caller's transaction).
    conn.execute(text("ALTER TABLE readings DETACH PARTITION readings_default"))
    conn.execute(create)
    moved = conn.execute(
        text(
            "WITH moved AS (DELETE FROM readings_default WHERE ts >= :s "
            "AND ts < :e RETURNING *) INSERT INTO readings SELECT * FROM moved"
        ),
        bounds,
    ).rowcount
    conn.execute(text("ALTER TABLE readings ATTACH PARTITION readings_default DEFAULT"))
    logger.info("moved %d readings from readings_default into %s", moved, name)


def list_partitions(conn: Connection) -> list[str]:
    """Names of the readings partitions, oldest first."""
    rows = conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'readings' ORDER BY c.relname"
        )
    )
    return [row[0] for row in rows]


def drop_partitions_before(conn: Connection, cutoff: date) -> list[str]:
    """Drop monthly partitions that end on or before cutoff (raw-data retention)."""
    dropped = []
    for name in list_partitions(conn):
        if not name.startswith("readings_y"):
            continue
        month = date(int(name[10:14]), int(name[15:17]), 1)
        if month_start(month, 1) <= cutoff:
            conn.execute(text(f"DROP TABLE {name}"))
            dropped.append(name)
    if dropped:
        logger.info("dropped readings partitions %s (retention)", ", ".join(dropped))
    return dropped
