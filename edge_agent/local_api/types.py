"""Strawberry types of the local API, derived from the control service's models (edge_agent/models.py); a type
with fields of its own (Meter's state, LiveValue's age) gets a from_model() that fills them in. AgentStatus (built
by live.py) and Reading (a ReadingRow without its meter) keep fields of their own."""

from datetime import datetime
from typing import Any

import strawberry
import strawberry.experimental.pydantic
from pydantic import BaseModel
from strawberry.scalars import JSON

from db.clock import utcnow
from db.staleness import age_seconds, is_stale
from edge_agent import models


def _get(model: Any, name: str, default: Any = None) -> Any:
    """An attribute of a service model or a key of a dict (the service returns pydantic models)."""
    if isinstance(model, dict):
        return model.get(name, default)
    return getattr(model, name, default)


def _as(model: type[BaseModel], value: Any) -> BaseModel:
    """value as the service model (the service returns its models; a dict is validated into one)."""
    return value if isinstance(value, model) else model.model_validate(value, from_attributes=True)


@strawberry.experimental.pydantic.type(model=models.ReadingRow, all_fields=True)
class LiveValue:
    """The latest value of one data point (the fields of edge_agent.models.ReadingRow), with its age."""

    age_seconds: float | None = strawberry.field(default=None, description="seconds since ts")
    stale: bool = strawberry.field(default=False, description="older than 3 × the collection interval")


@strawberry.experimental.pydantic.type(model=models.MeterStatus, all_fields=True)
class Meter:
    """A configured meter (the fields of edge_agent.models.MeterStatus), its state and its latest values."""

    state: str = strawberry.field(description="ok | dead | unknown | disabled")
    device_profile: JSON | None
    latest: list[LiveValue]


@strawberry.type
class CentralOutage:
    """Central unreachable right now: since when, for how long, and whether it is past the alert threshold."""

    since: datetime
    seconds: float
    alerting: bool = strawberry.field(description="longer than CENTRAL_UNREACHABLE_ALERT_MINUTES")


@strawberry.experimental.pydantic.type(model=models.EdgeAlertEntry, all_fields=True)
class EdgeAlert:
    """An alert the edge raised itself (central unreachable, meter unreachable, deep queue): open while endedAt is null."""


@strawberry.type
class AgentStatus:
    """Collection, queue and central link, as the dashboard's status strip shows them."""

    agent_version: str
    collecting: bool
    collection_interval_seconds: float
    last_poll_at: datetime | None
    meters_total: int
    meters_reachable: int
    collection_success_rate: float | None
    queue_depth: int
    queue_head_attempts: int = strawberry.field(
        description="unacknowledged upload attempts of the oldest queued reading (outbox retry_count)"
    )
    oldest_queued_age_seconds: float | None
    outbox_full: bool
    outbox_full_policy: str = strawberry.field(description="drop_oldest or stop_collecting")
    dead_letter_count: int
    central_state: str = strawberry.field(description="idle | ok | unreachable | rate_limited | unauthorized")
    central_detail: str | None
    central_reachable: bool | None
    central_since: datetime | None = strawberry.field(description="when central_reachable last changed")
    central_unreachable_seconds: float | None
    central_outage: CentralOutage | None = strawberry.field(description="null while central is reachable")
    alerts: list[EdgeAlert] = strawberry.field(description="the edge's open alerts, oldest first")
    sync_success_rate: float | None
    last_sync_at: datetime | None
    last_sync_outcome: str | None
    last_sync_success: bool | None
    last_sync_message: str | None
    last_heartbeat_at: datetime | None
    site_name: str | None
    checked_at: datetime
    site_timezone: str | None = strawberry.field(
        default=None,
        description="the site's time zone (IANA name) as central states it, kept across restarts; "
        "null until the edge has heard it (show UTC then)",
    )
    simulated_from: datetime | None = strawberry.field(
        default=None, description="start of the simulated (demo) readings this edge queued; null: none"
    )
    simulated_until: datetime | None = strawberry.field(default=None, description="end of those readings")
    bbmd_address: str | None = strawberry.field(default=None, description="BACNET_BBMD_ADDRESS, if set")
    bbmd_state: str | None = strawberry.field(
        default=None,
        description="registered | registering | unregistered | refused (code); null without a BBMD",
    )
    bbmd_registered_at: datetime | None = None


@strawberry.type
class Reading:
    """One reading kept locally (last 24 h)."""

    ts: datetime
    value: float
    quality: int
    data_point: str
    unit: str | None

    @classmethod
    def from_model(cls, row: Any) -> "Reading":
        """From a ReadingRow."""
        return cls(ts=row.ts, value=row.value, quality=row.quality, data_point=row.data_point, unit=row.unit)


@strawberry.experimental.pydantic.type(model=models.SyncLogEntry, all_fields=True)
class SyncLogEntry:
    """One upload attempt."""


@strawberry.experimental.pydantic.type(model=models.DeadLetterEntry, all_fields=True)
class DeadLetter:
    """A reading central rejected, with the reason."""

    id: strawberry.ID


@strawberry.experimental.pydantic.type(model=models.SyncSummary, all_fields=True)
class SyncSummary:
    """Outcome of Sync now."""


@strawberry.experimental.pydantic.type(model=models.DiscoveredObject, all_fields=True)
class DiscoveredObject:
    """An analog object found on a device."""


@strawberry.experimental.pydantic.type(model=models.DiscoveredDevice, all_fields=True)
class DiscoveredDevice:
    """A device that answered Who-Is, with its objects."""

    configured_meter: str | None = strawberry.field(description="external id of the meter already polling it")


@strawberry.experimental.pydantic.type(model=models.PointReading, all_fields=True)
class PointReading:
    """A value read on demand."""


@strawberry.experimental.pydantic.type(model=models.TestReadResult, all_fields=True)
class TestReadResult:
    """Outcome of a test read: the values, or why nothing could be read."""

    point_errors: JSON


def _derived(strawberry_type: type, model: type[BaseModel]) -> None:
    """Give a type derived from a service model the from_model() of the others (Strawberry drops class methods)."""
    strawberry_type.from_model = classmethod(lambda cls, value: cls.from_pydantic(_as(model, value)))


for _type, _model in (
    (EdgeAlert, models.EdgeAlertEntry),
    (SyncLogEntry, models.SyncLogEntry),
    (SyncSummary, models.SyncSummary),
    (DeadLetter, models.DeadLetterEntry),
    (TestReadResult, models.TestReadResult),
):
    _derived(_type, _model)


def _discovered(cls, device: models.DiscoveredDevice, configured: str | None) -> DiscoveredDevice:
    """From a service DiscoveredDevice and the meter already polling it."""
    return cls.from_pydantic(device, extra={"configured_meter": configured})


DiscoveredDevice.from_model = classmethod(_discovered)


def _meter(cls, meter: Any, latest: list[LiveValue]) -> Meter:
    """From a MeterStatus and the meter's latest values."""
    status = _as(models.MeterStatus, meter)
    if not status.enabled:
        state = "disabled"
    elif status.reachable is None:
        state = "unknown"
    else:
        state = "ok" if status.reachable else "dead"
    return cls(**dict(status), state=state, latest=latest)  # from_pydantic's extra would convert latest again


Meter.from_model = classmethod(_meter)


def _live_value(cls, row: Any, interval: float | None = None) -> LiveValue:
    """From a ReadingRow; `interval` is how often its meter is polled (db/staleness.py has the rule)."""
    now = utcnow()
    age = {"age_seconds": age_seconds(row.ts, now), "stale": is_stale(row.ts, interval, now)}
    return cls.from_pydantic(_as(models.ReadingRow, row), extra=age)


LiveValue.from_model = classmethod(_live_value)
