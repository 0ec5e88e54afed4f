"""Reading types: resolutions, quality, pages of readings, energy buckets and totals."""

from datetime import date, datetime
from enum import Enum

import strawberry
from strawberry.experimental.pydantic import type as pydantic_type

from db.central.storage.readings_query import ReadingRow


@strawberry.enum
class Resolution(Enum):
    """Raw readings, or averages per minute, hour or day."""

    RAW = "raw"
    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"


@strawberry.enum
class EnergyResolution(Enum):
    """Energy buckets: 15 minutes (billing intervals), hours, local days, local months."""

    QUARTER_HOUR = "quarter_hour"
    HOUR = "hour"
    DAY = "day"
    MONTH = "month"


@strawberry.enum
class TotalResolution(Enum):
    """Site and fleet totals per local day or local month."""

    DAY = "day"
    MONTH = "month"


@strawberry.enum
class DataQuality(Enum):
    """Good; uncertain (estimated, partial or flagged readings); bad (nothing usable)."""

    GOOD = 0
    UNCERTAIN = 1
    BAD = 2


@pydantic_type(
    model=ReadingRow,
    all_fields=True,
    description="A raw reading, or one bucket: the mean with min, max and count; for a cumulative register "
    "(kWh counter) the consumption in the bucket with its first/last register value and completeness.",
)
class ReadingValue:
    data_quality: DataQuality | None = strawberry.field(
        default=None, description="quality by name: GOOD, UNCERTAIN (estimated or mixed), BAD (all bad)"
    )


@strawberry.type
class PageInfo:
    """Whether another page follows, and the cursor to ask for it with `after`."""

    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class ReadingPage:
    """One page of readings."""

    items: list[ReadingValue]
    page_info: PageInfo


@strawberry.type
class EnergyBucket:
    """One point over one bucket [start, end) in the site's local time.

    Cumulative registers: consumption (edges split by time between the readings around them; gaps spread
    over the gap and marked partial), first/last register value and peak demand = 4 x the highest
    15-minute consumption. Instantaneous points: mean, min, max and the highest 15-minute mean (demand).
    completeness is the share of the bucket up to now covered by the meter's readings.
    """

    start: datetime
    end: datetime
    count: int
    mean: float | None
    min: float | None
    max: float | None
    first_value: float | None
    last_value: float | None
    consumption: float | None
    completeness: float | None
    peak_demand: float | None
    peak_demand_at: datetime | None
    quality: DataQuality
    partial: bool
    cost: float | None = strawberry.field(description="Energy cost at the site's tariff (null without one)")
    demand_cost: float | None = strawberry.field(
        description="MONTH buckets: the tariff's demand charge on the month's peak 15-minute demand"
    )


@strawberry.type
class EnergyPage:
    """One page of energy buckets, with the point's kind."""

    items: list[EnergyBucket]
    page_info: PageInfo
    cumulative: bool
    timezone: str
    currency: str | None


def energy_item(b) -> EnergyBucket:
    """A GraphQL bucket from a db.energy.EnergyBucket."""
    return EnergyBucket(
        start=b.start,
        end=b.end,
        count=b.count,
        mean=b.mean,
        min=b.min,
        max=b.max,
        first_value=b.first_value,
        last_value=b.last_value,
        consumption=b.consumption,
        completeness=b.completeness,
        peak_demand=b.peak_demand,
        peak_demand_at=b.peak_demand_at,
        quality=DataQuality(b.quality),
        partial=b.completeness is not None and b.completeness < 1.0 - 1e-9,
        cost=b.cost,
        demand_cost=b.demand_cost,
    )


@strawberry.type
class EnergyTotal:
    """kWh of one site or of the fleet over one local day or month (labelled by its first date)."""

    label: date
    kwh: float
    quality: DataQuality
    points: int


@strawberry.type
class SiteEnergy:
    """One site's totals."""

    site_id: strawberry.ID
    totals: list[EnergyTotal]


@strawberry.type
class EnergyTotals:
    """Per site and for the fleet: the fleet's total of a date is the sum of the sites' totals of that date."""

    sites: list[SiteEnergy]
    fleet: list[EnergyTotal]


def _total(t) -> EnergyTotal:
    return EnergyTotal(label=t.label, kwh=t.kwh, quality=DataQuality(t.quality), points=t.points)
