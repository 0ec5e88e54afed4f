"""Subscription event types: a site's status, readings added by an upload."""

from datetime import datetime

import strawberry


@strawberry.type
class SiteStatusEvent:
    """A site's status after a heartbeat or after the monitor marked it offline."""

    site_id: strawberry.ID
    name: str
    status: str
    last_heartbeat_at: datetime | None
    queue_depth: int | None


@strawberry.type
class LatestReading:
    """The newest value of one point in an upload."""

    meter_external_id: str
    data_point: str
    ts: datetime
    value: float
    unit: str | None


@strawberry.type
class ReadingsAddedEvent:
    """Readings stored for one meter by one upload."""

    site_id: strawberry.ID
    meter_id: strawberry.ID
    count: int
    latest: list[LatestReading]
