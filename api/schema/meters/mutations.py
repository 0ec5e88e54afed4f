"""Meter mutations: create/update by external id, delete."""

import strawberry
from strawberry.types import Info

from api.schema.ids import to_int
from api.schema.inventory.mutations import as_dicts, people_origin
from api.schema.meters.types import Meter, MeterInput
from api.schema.permissions import IsAuthenticated, scope
from api.services import inventory
from api.services import meters as service


@strawberry.type
class MetersMutation:
    """Changes to meters (admins and the site's managers)."""

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    async def upsert_meter(self, info: Info, site_id: strawberry.ID, meter: MeterInput) -> Meter:
        """Create or update a meter of the site's inventory by external id (the edge applies it at its next sync)."""
        fields = {
            "name": meter.name,
            "bacnet_device_id": meter.bacnet_device_id,
            "bacnet_address": meter.bacnet_address,
            "enabled": meter.enabled,
            "interval_seconds": meter.interval_seconds,
        }
        points = None if meter.data_points is None else as_dicts(meter.data_points)
        site = to_int(site_id, "site id")
        async with info.context.session() as session:
            await inventory.edit_meter(
                session, site, meter.external_id, fields, points, people_origin(info), info.context.user.email,
                scope(info),
            )  # fmt: skip
            row, views = await service.meter_by_external_id(session, site, meter.external_id)
        return Meter.from_model(row, views)

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    async def delete_meter(self, info: Info, meter_id: strawberry.ID) -> bool:
        """Delete a meter: out of its site's inventory (a new version), or a placeholder no one defined."""
        async with info.context.session() as session:
            return await service.delete_meter(
                session,
                to_int(meter_id, "meter id"),
                people_origin(info),
                info.context.user.email,
                scope(info),
            )
