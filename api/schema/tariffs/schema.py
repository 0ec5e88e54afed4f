"""Tariff query: a site's tariff, read by any user of the site."""

import strawberry
from strawberry.types import Info

from api.schema.ids import to_int
from api.schema.permissions import IsAuthenticated, scope
from api.schema.tariffs.types import Tariff
from db.central import tariffs as store


@strawberry.type
class TariffsQuery:
    """Tariff queries."""

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def site_tariff(self, info: Info, site_id: strawberry.ID) -> Tariff | None:
        """The site's tariff, null when it has none."""
        site = to_int(site_id, "site id")
        scope(info).check_read(site)
        async with info.context.session() as session:
            found = await store.get_tariff(session, site)
        return Tariff.from_tariff(found) if found else None
