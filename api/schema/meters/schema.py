"""Meter query: meters (per site or all) with points and latest values."""

import strawberry
from strawberry.types import Info

from api.schema.ids import to_int
from api.schema.meters.types import Meter
from api.schema.permissions import IsAuthenticated, scope
from api.services import meters as service


@strawberry.type
class MetersQuery:
    """Queries about meters."""

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def meters(self, info: Info, site_id: strawberry.ID | None = None) -> list[Meter]:
        """Meters of one site, or of every site."""
        async with info.context.session() as session:
            rows = await service.meters_with_points(session, scope(info), to_int(site_id, "site id"))
            intervals = await service.site_intervals(session, {m.site_id for m, _ in rows})
        return [Meter.from_model(m, points, intervals.get(m.site_id)) for m, points in rows]
