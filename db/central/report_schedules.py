"""Monthly report e-mails: stored schedules (recipients, sites, zone) and the months already sent."""

from datetime import date, datetime

from sqlalchemy import JSON, Column, ForeignKey, PrimaryKeyConstraint, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field

from db.central.models import CentralTable
from db.clock import utcnow
from db.errors import NotFound
from db.types import BigId, UTCDateTime


class ReportSchedule(CentralTable, table=True):
    """A monthly report of some sites (all when site_ids is null) mailed on the 1st in `timezone`."""

    __tablename__ = "report_schedules"
    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    recipients: list = Field(sa_column=Column(JSON, nullable=False))
    site_ids: list | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    timezone: str = Field(max_length=64)
    created_by: str = Field(default="", max_length=254)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReportDelivery(CentralTable, table=True):
    """One month of one schedule, sent: the key makes sending exactly once across API workers."""

    __tablename__ = "report_deliveries"
    __table_args__ = (PrimaryKeyConstraint("schedule_id", "month"),)
    schedule_id: int = Field(
        sa_column=Column(BigId, ForeignKey("report_schedules.id", ondelete="CASCADE"), nullable=False)
    )
    month: date
    sent_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


async def list_schedules(session: AsyncSession) -> list[ReportSchedule]:
    """Every schedule, oldest first."""
    return list(await session.scalars(select(ReportSchedule).order_by(ReportSchedule.id)))


async def last_months(session: AsyncSession) -> dict[int, date]:
    """The newest month each schedule has sent."""
    rows = await session.execute(select(ReportDelivery.schedule_id, ReportDelivery.month))
    out: dict[int, date] = {}
    for schedule_id, month in rows:
        out[schedule_id] = max(month, out.get(schedule_id, month))
    return out


async def add_schedule(
    session: AsyncSession, recipients: list[str], site_ids: list[int] | None, timezone: str, created_by: str
) -> ReportSchedule:
    """Store a schedule (validated by the caller)."""
    row = ReportSchedule(recipients=recipients, site_ids=site_ids, timezone=timezone, created_by=created_by)
    session.add(row)
    await session.flush()
    return row


async def remove_schedule(session: AsyncSession, schedule_id: int) -> None:
    """Delete a schedule and its record of sent months; NotFound when there is none."""
    if await session.get(ReportSchedule, schedule_id) is None:
        raise NotFound(f"no report schedule with id {schedule_id}")
    await session.execute(delete(ReportDelivery).where(ReportDelivery.schedule_id == schedule_id))
    await session.execute(delete(ReportSchedule).where(ReportSchedule.id == schedule_id))


async def claim_month(session: AsyncSession, schedule_id: int, month: date) -> bool:
    """Record the month as sent in the caller's transaction; False when it already is (or another is at it).

    A concurrent claim of the same month waits on this row's key until the first transaction ends, then
    finds it (committed: sent) or claims it (rolled back: the send failed and is tried again).
    """
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(ReportDelivery).values(schedule_id=schedule_id, month=month, sent_at=utcnow())
    stmt = stmt.on_conflict_do_nothing(index_elements=["schedule_id", "month"]).returning(
        ReportDelivery.month
    )
    return (await session.execute(stmt)).first() is not None
