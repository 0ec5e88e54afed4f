"""Meter types: a meter with its state and data points, and the meter input."""

from datetime import datetime

import strawberry

from api.schema.inventory.types import InventoryPointInput
from db.central import models
from db.central.meters import PointView
from db.clock import utcnow
from db.staleness import age_seconds, is_stale, stale_after


@strawberry.type
class DataPoint:
    """One property of a meter that the edge reads, with its newest stored value."""

    id: strawberry.ID
    name: str
    object_type: str
    instance: int
    property: str
    unit: str | None
    cumulative: bool
    cov: bool
    last_value: float | None
    last_ts: datetime | None
    age_seconds: float | None = strawberry.field(description="seconds since lastTs (null: no value yet)")
    stale: bool = strawberry.field(description="no value for 3 × the meter's interval (db/staleness.py)")

    @classmethod
    def from_model(cls, view: PointView, interval: float | None = None) -> "DataPoint":
        """From a data_points row and its latest reading; `interval` is its meter's polling interval."""
        p = view.point
        now = utcnow()
        return cls(
            id=strawberry.ID(str(p.id)),
            name=p.name,
            object_type=p.object_type,
            instance=p.instance,
            property=p.property,
            unit=p.unit,
            cumulative=p.cumulative,
            cov=p.cov,
            last_value=view.last_value,
            last_ts=view.last_ts,
            age_seconds=age_seconds(view.last_ts, now),
            stale=is_stale(view.last_ts, interval, now),
        )


def meter_interval(meter: models.Meter, site_interval: float | None) -> float | None:
    """A meter's polling interval: its own, else its site's."""
    return (meter.config or {}).get("interval_seconds") or site_interval


def meter_state(meter: models.Meter, site_interval: float | None = None) -> str:
    """What a person should read from a meter's reachability and how long ago it was last heard from."""
    if not meter.enabled:
        return "disabled"
    if meter.reachable:
        # No last_seen_at (an edge that reports none): nothing says how old "reachable" is.
        seen = meter.last_seen_at
        stale = seen is not None and is_stale(seen, meter_interval(meter, site_interval), utcnow())
        return "stale" if stale else "reachable"
    return "never answered" if meter.last_seen_at is None else "unreachable"


@strawberry.type
class Meter:
    """A BACnet meter at a site."""

    id: strawberry.ID
    site_id: strawberry.ID
    external_id: str
    name: str
    bacnet_device_id: int | None
    bacnet_address: str | None
    enabled: bool
    discovered: bool
    reachable: bool | None
    last_error: str | None
    last_seen_at: datetime | None
    state: str = strawberry.field(
        description="reachable, stale (reachable at its last report, not heard from for 3 × its interval), "
        "unreachable, never answered or disabled"
    )
    interval_seconds: float | None = strawberry.field(description="its own collection interval, if set")
    age_seconds: float | None = strawberry.field(description="seconds since lastSeenAt (null: never seen)")
    stale_after_seconds: float = strawberry.field(description="age past which the meter counts as stale")
    data_points: list[DataPoint]

    @classmethod
    def from_model(
        cls, meter: models.Meter, points: list[PointView], site_interval: float | None = None
    ) -> "Meter":
        """From a meters row and its points; `site_interval` is its site's collection interval."""
        interval = meter_interval(meter, site_interval)
        return cls(
            id=strawberry.ID(str(meter.id)),
            site_id=strawberry.ID(str(meter.site_id)),
            external_id=meter.external_id,
            name=meter.name,
            bacnet_device_id=meter.bacnet_device_id,
            bacnet_address=meter.bacnet_address,
            enabled=meter.enabled,
            discovered=meter.discovered,
            reachable=meter.reachable,
            last_error=meter.last_error,
            last_seen_at=meter.last_seen_at,
            state=meter_state(meter, site_interval),
            interval_seconds=(meter.config or {}).get("interval_seconds"),
            age_seconds=age_seconds(meter.last_seen_at, utcnow()),
            stale_after_seconds=stale_after(interval),
            data_points=[DataPoint.from_model(v, interval) for v in points],
        )


@strawberry.input
class MeterInput:
    """A meter's configuration; fields left null keep their value, dataPoints (when given) replace the list."""

    external_id: str
    name: str | None = None
    bacnet_device_id: int | None = None
    bacnet_address: str | None = None
    enabled: bool | None = None
    interval_seconds: float | None = None
    data_points: list[InventoryPointInput] | None = None
