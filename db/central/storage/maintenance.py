"""Storage upkeep the API runs in the background: readings partitions ahead and raw-data retention.

The energy summary's quarters and days (and the rollups folded before it) are never dropped here: hourly and
daily readings and energy keep their history after the raw rows are gone. On PostgreSQL retention drops whole
monthly partitions (instant, no vacuum debt) and trims the default partition; on SQLite it deletes old rows.
"""

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from db.central.models import Reading
from db.central.storage.partitions import drop_partitions_before, ensure_partitions
from db.clock import clock

logger = logging.getLogger(__name__)


@dataclass
class MaintenanceReport:
    """What one maintenance pass did."""

    created: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    deleted_rows: int = 0


def retention_cutoff(today: date, raw_retention_days: int) -> date:
    """The first day whose raw readings are kept."""
    return today - timedelta(days=raw_retention_days)


def _maintain(conn: Connection, today: date, raw_retention_days: int, months_ahead: int) -> MaintenanceReport:
    report = MaintenanceReport()
    cutoff = retention_cutoff(today, raw_retention_days)
    cutoff_ts = datetime(cutoff.year, cutoff.month, cutoff.day, tzinfo=UTC)
    if conn.dialect.name == "postgresql":
        report.created = ensure_partitions(conn, months_back=0, months_ahead=months_ahead, today=today)
        report.dropped = drop_partitions_before(conn, cutoff)
        trimmed = conn.execute(text("DELETE FROM readings_default WHERE ts < :cutoff"), {"cutoff": cutoff_ts})
        report.deleted_rows = trimmed.rowcount or 0
    else:
        deleted = conn.execute(delete(Reading).where(Reading.ts < cutoff_ts))
        report.deleted_rows = deleted.rowcount or 0
    return report


async def maintain_storage(
    engine: AsyncEngine, raw_retention_days: int, months_ahead: int = 3, today: date | None = None
) -> MaintenanceReport:
    """Create partitions months_ahead ahead and drop raw readings older than raw_retention_days."""
    today = today or clock().today()
    async with engine.begin() as conn:
        report = await conn.run_sync(_maintain, today, raw_retention_days, months_ahead)
    if report.created or report.dropped or report.deleted_rows:
        logger.info(
            "storage maintenance: created %d partitions, dropped %d, deleted %d old raw rows",
            len(report.created),
            len(report.dropped),
            report.deleted_rows,
        )
    return report
