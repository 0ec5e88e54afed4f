"""Reading types: resolutions, quality, pages of readings, energy buckets and totals."""

from datetime import date
from enum import Enum

import strawberry
from strawberry.experimental.pydantic import type as pydantic_type

from api.services.readings import EnergyItem
from db.central.storage.readings_query import ReadingRow


@strawberry.enum
class Resolution(Enum):
    """Raw readings, or buckets per minute, local hour or local day (hours and days: the energy query's)."""

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
    description="A raw reading, or one bucket: the mean with min, max and count (HOUR and DAY: of the usable "
    "readings, quality below BAD, with the count of all); for a cumulative register (kWh counter) the "
    "consumption in the bucket with its first/last register value and completeness.",
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


@pydantic_type(model=EnergyItem, all_fields=True)
class EnergyBucket:
    """One point over one bucket (the fields of api/services/readings.py EnergyItem, quality by name)."""

    quality: DataQuality


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
    item = EnergyItem.of(b)
    return EnergyBucket(**{**dict(item), "quality": DataQuality(item.quality)})


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
