"""Tariff mutations: set or remove a site's tariff (its managers)."""

import strawberry
from strawberry.types import Info

from api.errors import InvalidInput, NotFoundError
from api.schema.ids import to_int
from api.schema.permissions import IsAuthenticated, scope
from api.schema.tariffs.types import Tariff, TariffInput
from db.central import tariffs as store
from db.errors import NotFound


@strawberry.type
class TariffsMutation:
    """Tariff changes (the site's managers)."""

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    async def set_site_tariff(
        self, info: Info, site_id: strawberry.ID, tariff: TariffInput | None
    ) -> Tariff | None:
        """Set the site's tariff (null removes it; its managers); costs in energy and reports follow at once."""
        scope(info).check_manage(to_int(site_id, "site id"))
        try:
            checked = (
                store.make_tariff(
                    tariff.currency,
                    tariff.default_price_per_kwh,
                    tariff.demand_charge_per_kw,
                    [
                        {
                            "days": b.days,
                            "start_hour": b.start_hour,
                            "end_hour": b.end_hour,
                            "price_per_kwh": b.price_per_kwh,
                        }
                        for b in tariff.bands
                    ],
                )
                if tariff is not None
                else None
            )
        except store.InvalidTariff as err:
            raise InvalidInput(str(err)) from err
        async with info.context.session() as session:
            try:
                await store.set_tariff(session, to_int(site_id, "site id"), checked)
            except NotFound as err:
                raise NotFoundError(str(err)) from err
        return Tariff.from_tariff(checked) if checked else None
