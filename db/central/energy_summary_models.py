"""The stored 15-minute energy summary (docs/energy-data.md): quarter rows, local-day rows, fold state."""

from datetime import date, datetime

from sqlalchemy import JSON, Date, Double, LargeBinary, PrimaryKeyConstraint
from sqlmodel import Field

from db.central.models import CentralTable
from db.types import BigId, UTCDateTime


class _PartColumns(CentralTable):
    """What adds up or combines exactly over adjacent quarters (db/energy_parts.Part)."""

    point_id: int = Field(sa_type=BigId)
    count: int = 0
    flagged: int = 0
    usable: int = 0
    vsum: float = Field(default=0.0, sa_type=Double)
    vmin: float | None = Field(default=None, sa_type=Double)
    vmax: float | None = Field(default=None, sa_type=Double)
    first_value: float | None = Field(default=None, sa_type=Double)
    last_value: float | None = Field(default=None, sa_type=Double)
    consumption: float | None = Field(default=None, sa_type=Double)
    span_seconds: float = Field(default=0.0, sa_type=Double)
    longest: float = Field(default=0.0, sa_type=Double)


class EnergyQuarter(_PartColumns, table=True):
    """One point over one quarter hour [q, q + 15 min) (every zone's offset is a whole number of quarters)."""

    __tablename__ = "energy_quarters"
    __table_args__ = (PrimaryKeyConstraint("point_id", "q"),)
    q: datetime = Field(sa_type=UTCDateTime)
    whole: bool = False  # the readings cover the whole quarter (it counts for demand)


class EnergyDay(_PartColumns, table=True):
    """One point over one local day of its site, summed from its quarters; hours: consumption per local hour."""

    __tablename__ = "energy_days"
    __table_args__ = (PrimaryKeyConstraint("point_id", "day"),)
    day: date = Field(sa_type=Date)
    bucket: datetime = Field(sa_type=UTCDateTime)
    bucket_end: datetime = Field(sa_type=UTCDateTime)
    peak: float | None = Field(default=None, sa_type=Double)
    peak_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    hours: dict | None = Field(default=None, sa_type=JSON)


class EnergySummaryState(CentralTable, table=True):
    """Which quarters of a point the summary holds exactly: [folded_from, tail_start); the rest is read raw."""

    __tablename__ = "energy_summary_state"
    point_id: int = Field(sa_type=BigId, primary_key=True)
    folded_from: datetime = Field(sa_type=UTCDateTime)
    tail_start: datetime = Field(sa_type=UTCDateTime)
    last_usable: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # the newest queued reading its folds claimed (energy_summary._after_folded); None before migration 0018
    newest: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # its rows from tail_start on, after its usable reading before (db/central/energy_tail.py), else None
    tail: bytes | None = Field(default=None, sa_type=LargeBinary)
