"""Meters: list (per site or all) with points and latest values, create/update, delete."""

import strawberry
from strawberry.types import Info

from api.schema.ids import to_int
from api.schema.permissions import IsAdmin, IsAuthenticated
from api.schema.types import Meter
from api.services import meters as service


@strawberry.input
class DataPointInput:
    """A point the edge should read on this meter."""

    name: str
    object_type: str = "analog-input"
    instance: int = 0
    property: str = "present-value"
    unit: str | None = None
    cumulative: bool = False
    cov: bool = False


@strawberry.input
class MeterInput:
    """A meter's configuration; dataPoints, when given, replaces the meter's point list."""

    external_id: str
    name: str | None = None
    bacnet_device_id: int | None = None
    bacnet_address: str | None = None
    enabled: bool | None = None
    data_points: list[DataPointInput] | None = None


@strawberry.type
class MetersQuery:
    """Queries about meters."""

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def meters(self, info: Info, site_id: strawberry.ID | None = None) -> list[Meter]:
        """Meters of one site, or of every site."""
        async with info.context.session() as session:
            rows = await service.meters_with_points(session, to_int(site_id, "site id"))
        return [Meter.from_model(m, points) for m, points in rows]


@strawberry.type
class MetersMutation:
    """Changes to meters (admin only)."""

    @strawberry.mutation(permission_classes=[IsAdmin])
    async def upsert_meter(self, info: Info, site_id: strawberry.ID, meter: MeterInput) -> Meter:
        """Create or update a meter by external id (the edge picks it up with siteConfig)."""
        fields = {
            "name": meter.name,
            "bacnet_device_id": meter.bacnet_device_id,
            "bacnet_address": meter.bacnet_address,
            "enabled": meter.enabled,
        }
        points = None if meter.data_points is None else [strawberry.asdict(p) for p in meter.data_points]
        async with info.context.session() as session:
            row, views = await service.upsert_meter(
                session, to_int(site_id, "site id"), meter.external_id, fields, points
            )
        if info.context.caches is not None:
            await info.context.caches.config_changed(row.site_id)
        return Meter.from_model(row, views)

    @strawberry.mutation(permission_classes=[IsAdmin])
    async def delete_meter(self, info: Info, meter_id: strawberry.ID) -> bool:
        """Delete a meter and its points."""
        async with info.context.session() as session:
            deleted = await service.delete_meter(session, to_int(meter_id, "meter id"))
        if deleted and info.context.caches is not None:
            await info.context.caches.config_changed(None)  # its site is gone with the row: every site
        return deleted
