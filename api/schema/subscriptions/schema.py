"""Subscriptions (dashboard token in connection_init): site status, new readings, alerts."""

from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry
from strawberry.types import Info

from api.errors import NotFoundError
from api.schema.alerts.types import Alert
from api.schema.ids import to_int
from api.schema.permissions import IsAuthenticated, scope
from api.schema.subscriptions.types import LatestReading, ReadingsAddedEvent, SiteStatusEvent
from api.services.alerts import get_alert
from api.services.sites import get_site


def _matches(payload: dict, key: str, wanted: strawberry.ID | None) -> bool:
    return wanted is None or str(payload.get(key)) == str(wanted)


async def _in_scope(info: Info, site_id: strawberry.ID | None) -> None:
    """NotFoundError, before anything streams, for a site that does not exist or is out of the caller's scope."""
    if site_id is not None:
        async with info.context.session() as session:
            await get_site(session, to_int(site_id, "site id"), scope(info))


def _readable(info: Info, event: dict) -> bool:
    """True when the event's site is in the caller's scope now (re-read: grants can change)."""
    site = event.get("site_id")
    return scope(info).reads(int(site) if site is not None else None)


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
        """Status of one site (or all of the caller's) whenever a heartbeat arrives or the site goes offline."""
        await _in_scope(info, site_id)
        async for event in info.context.pubsub.subscribe("site_status"):
            if _matches(event, "site_id", site_id) and _readable(info, event):
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
        """New readings per upload and meter, for one site or meter (or all of the caller's)."""
        await _in_scope(info, site_id)
        async for event in info.context.pubsub.subscribe("readings"):
            if not _matches(event, "site_id", site_id) or not _readable(info, event):
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
    await _in_scope(info, site_id)
    async for event in info.context.pubsub.subscribe("alerts"):
        if event.get("event") != kind or not _matches(event, "site_id", site_id):
            continue
        try:
            async with info.context.session() as session:
                alert, site_name = await get_alert(session, int(event["alert_id"]), scope(info))
        except NotFoundError:  # another owner's site, or a fleet-wide alert for a non-admin
            continue
        yield Alert.from_model(alert, site_name)
