"""Readings of one meter's point over a time range: raw or averaged per minute/hour/day, cursor-paged."""

from datetime import datetime

import strawberry
from strawberry.types import Info

from api.schema.ids import to_int
from api.schema.permissions import IsAuthenticated
from api.schema.types import Resolution
from api.services import readings as service


@strawberry.type
class ReadingValue:
    """A raw reading, or a bucket's average with min, max and count (null at RAW)."""

    ts: datetime
    value: float
    min: float | None
    max: float | None
    count: int | None
    quality: int | None


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
class ReadingsQuery:
    """Queries of stored readings."""

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def readings(
        self,
        info: Info,
        meter_id: strawberry.ID,
        point: str,
        start: datetime,
        end: datetime,
        resolution: Resolution = Resolution.RAW,
        first: int = 1000,
        after: str | None = None,
    ) -> ReadingPage:
        """Readings in [start, end), oldest first; pass pageInfo.endCursor as `after` for the next page."""
        async with info.context.session() as session:
            rows, cursor = await service.readings(
                session, to_int(meter_id, "meter id"), point, start, end, resolution.value, first, after
            )
        return ReadingPage(
            items=[
                ReadingValue(ts=r.ts, value=r.value, min=r.min, max=r.max, count=r.count, quality=r.quality)
                for r in rows
            ],
            page_info=PageInfo(has_next_page=cursor is not None, end_cursor=cursor),
        )
