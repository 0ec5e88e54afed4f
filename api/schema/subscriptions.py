"""Subscriptions (dashboard token in connection_init): site status, new readings, alerts raised/resolved."""

from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry
from strawberry.types import Info

from api.schema.permissions import IsAuthenticated
from api.schema.types import Alert
from api.services.alerts import get_alert


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


def _matches(payload: dict, key: str, wanted: strawberry.ID | None) -> bool:
    return wanted is None or str(payload.get(key)) == str(wanted)


def _readings_event(site_id: int, meter: dict) -> ReadingsAddedEvent:
    return ReadingsAddedEvent(
        site_id=strawberry.ID(str(site_id)),
        meter_id=strawberry.ID(str(meter["meter_id"])),
        count=meter["count"],
        latest=[
            LatestReading(
                meter_external_id=meter["meter_external_id"],
                data_point=point,
                ts=datetime.fromisoformat(ts),
                value=value,
                unit=unit,
            )
            for point, ts, value, unit in meter.get("latest", [])
        ],
    )


@strawberry.type
class Subscription:
    """Every subscription."""

    @strawberry.subscription(permission_classes=[IsAuthenticated])
    async def site_status_changed(
        self, info: Info, site_id: strawberry.ID | None = None
    ) -> AsyncGenerator[SiteStatusEvent, None]:
        """Status of one site (or all) whenever a heartbeat arrives or the site goes offline."""
        async for event in info.context.pubsub.subscribe("site_status"):
            if _matches(event, "site_id", site_id):
                seen = event.get("last_heartbeat_at")
                yield SiteStatusEvent(
                    site_id=strawberry.ID(str(event["site_id"])),
                    name=event["name"],
                    status=event["status"],
                    last_heartbeat_at=datetime.fromisoformat(seen) if seen else None,
                    queue_depth=event.get("queue_depth"),
                )

    @strawberry.subscription(permission_classes=[IsAuthenticated])
    async def readings_added(
        self, info: Info, site_id: strawberry.ID | None = None, meter_id: strawberry.ID | None = None
    ) -> AsyncGenerator[ReadingsAddedEvent, None]:
        """New readings per upload and meter, for one site or meter (or all)."""
        async for event in info.context.pubsub.subscribe("readings"):
            if not _matches(event, "site_id", site_id):
                continue
            for meter in event.get("meters", []):
                if _matches(meter, "meter_id", meter_id):
                    yield _readings_event(event["site_id"], meter)

    @strawberry.subscription(permission_classes=[IsAuthenticated])
    async def alert_raised(
        self, info: Info, site_id: strawberry.ID | None = None
    ) -> AsyncGenerator[Alert, None]:
        """Alerts as they open (published on "alerts" with event "raised")."""
        async for alert in _alerts(info, "raised", site_id):
            yield alert

    @strawberry.subscription(permission_classes=[IsAuthenticated])
    async def alert_resolved(
        self, info: Info, site_id: strawberry.ID | None = None
    ) -> AsyncGenerator[Alert, None]:
        """Alerts as they resolve (published on "alerts" with event "resolved")."""
        async for alert in _alerts(info, "resolved", site_id):
            yield alert


async def _alerts(info: Info, kind: str, site_id: strawberry.ID | None) -> AsyncGenerator[Alert, None]:
    async for event in info.context.pubsub.subscribe("alerts"):
        if event.get("event") != kind or not _matches(event, "site_id", site_id):
            continue
        async with info.context.session() as session:
            alert, site_name = await get_alert(session, int(event["alert_id"]))
        yield Alert.from_model(alert, site_name)
