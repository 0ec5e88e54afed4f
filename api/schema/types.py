"""GraphQL object types, each built from database rows by a `from_model()` classmethod."""

from datetime import datetime
from enum import Enum

import strawberry
import strawberry.experimental.pydantic
from strawberry.types import Info

from api.mcp.models import AlertInfo
from db.central import models
from db.central.meters import PointView
from db.clock import utcnow
from db.staleness import age_seconds, is_stale, stale_after


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


@strawberry.enum
class AlertStatus(Enum):
    """Which alerts to list: open (acknowledged or not), only the unacknowledged or acknowledged open ones, resolved, all."""

    OPEN = "open"
    UNACKNOWLEDGED = "unacknowledged"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    ALL = "all"


@strawberry.type
class User:
    """A dashboard user."""

    id: strawberry.ID
    email: str
    role: str
    is_active: bool
    created_at: datetime

    @classmethod
    def from_model(cls, user: models.User) -> "User":
        """From a users row."""
        return cls(
            id=strawberry.ID(str(user.id)),
            email=user.email,
            role=user.role,
            is_active=user.is_active,
            created_at=user.created_at,
        )


@strawberry.type
class SiteGrant:
    """A user's role at one site: manager (read and manage) or viewer (read)."""

    user_id: strawberry.ID
    email: str
    site_id: strawberry.ID
    site_name: str
    role: str

    @classmethod
    def from_row(cls, row) -> "SiteGrant":
        """From a db.central.grants.GrantRow."""
        return cls(
            user_id=strawberry.ID(str(row.user_id)),
            email=row.email,
            site_id=strawberry.ID(str(row.site_id)),
            site_name=row.site_name,
            role=row.role,
        )


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


@strawberry.type
class Site:
    """A building with an edge agent, and its live status."""

    id: strawberry.ID
    name: str
    timezone: str
    is_active: bool
    maintenance: bool
    status: str
    last_heartbeat_at: datetime | None
    last_contact_at: datetime | None = strawberry.field(
        description="last request of any kind from the site's edge (upload, heartbeat, config); decides offline"
    )
    queue_depth: int | None
    oldest_queued_age_seconds: float | None
    agent_version: str | None
    meters_total: int
    meters_reachable: int
    allowed_networks: list[str] = strawberry.field(
        description="Networks (CIDR) the site's key is accepted from; empty: any address"
    )
    age_seconds: float | None = strawberry.field(
        description="seconds since the site's edge was last heard from (null: never)"
    )
    stale: bool = strawberry.field(description="not heard from for 3 × its collection interval")
    _row: strawberry.Private[models.Site]
    _today_kwh: strawberry.Private[float | None | bool] = False  # False: not loaded in advance

    @classmethod
    def from_model(
        cls, site: models.Site, counts: tuple[int, int] = (0, 0), today_kwh: float | None | bool = False
    ) -> "Site":
        """From a sites row, its (meters, reachable meters) counts and, when known, today's kWh."""
        health = site.health or {}
        heard = site.last_contact_at or site.last_heartbeat_at
        now = utcnow()
        return cls(
            id=strawberry.ID(str(site.id)),
            name=site.name,
            timezone=site.timezone,
            is_active=site.is_active,
            maintenance=site.maintenance,
            status=site.status,
            last_heartbeat_at=site.last_heartbeat_at,
            last_contact_at=site.last_contact_at,
            queue_depth=health.get("queue_depth"),
            oldest_queued_age_seconds=health.get("oldest_queued_age_seconds"),
            agent_version=health.get("agent_version"),
            meters_total=counts[0],
            meters_reachable=counts[1],
            allowed_networks=list(site.allowed_networks or []),
            age_seconds=age_seconds(heard, now),
            stale=is_stale(heard, site.collection_interval_seconds, now),
            _row=site,
            _today_kwh=today_kwh,
        )

    @strawberry.field(description="kWh used since local midnight, from cumulative kWh registers")
    async def today_energy_kwh(self, info: Info) -> float | None:
        """Today's energy at this site (loaded with the page by the fleet query)."""
        from api.services.sites import today_energy

        if self._today_kwh is not False:
            return self._today_kwh

        async with info.context.session() as session:
            return await today_energy(session, self._row)

    @strawberry.field(
        description="start of the site's simulated (demo) readings, as its edge reported; null: none"
    )
    def simulated_from(self) -> datetime | None:
        """The simulated history's start (kept in the site's health, db/central/site_status.py)."""
        value = (self._row.health or {}).get("simulated_from")
        return datetime.fromisoformat(value) if value else None

    @strawberry.field(description="end of the site's simulated (demo) readings; null: none")
    def simulated_until(self) -> datetime | None:
        """The simulated history's end."""
        value = (self._row.health or {}).get("simulated_until")
        return datetime.fromisoformat(value) if value else None

    @strawberry.field
    async def meters(self, info: Info) -> list[Meter]:
        """This site's meters."""
        from api.schema.permissions import scope
        from api.services.meters import meters_with_points

        async with info.context.session() as session:
            rows = await meters_with_points(session, scope(info), int(self.id))
        return [Meter.from_model(m, points, self._row.collection_interval_seconds) for m, points in rows]


@strawberry.type
class CreatedSite:
    """A new site, or a site with a new key: the key is shown here once and never again."""

    site: Site
    api_key: str


@strawberry.experimental.pydantic.type(model=AlertInfo, all_fields=True)
class Alert:
    """One occurrence of an alert condition (the fields of api.mcp.models.AlertInfo, ids as GraphQL IDs)."""

    id: strawberry.ID
    site_id: strawberry.ID | None
    meter_id: strawberry.ID | None


def _alert_from_model(cls, alert: models.Alert, site_name: str | None = None) -> Alert:
    """From an alerts row and its site's name."""
    info = AlertInfo.model_validate(
        {**alert.model_dump(include=set(AlertInfo.model_fields)), "site_name": site_name}
    )
    fields = info.model_dump()
    for name in ("id", "site_id", "meter_id"):
        fields[name] = None if fields[name] is None else strawberry.ID(str(fields[name]))
    return cls(**fields)


# Strawberry's pydantic types drop class methods: from_model is set on the derived type.
Alert.from_model = classmethod(_alert_from_model)
