"""Time-of-use tariffs per site: read by any user, set or removed by admins (db/central/tariffs.py)."""

import strawberry
from strawberry.types import Info

from api.errors import InvalidInput, NotFoundError
from api.schema.ids import to_int
from api.schema.permissions import IsAuthenticated, scope
from db.central import tariffs as store
from db.errors import NotFound


@strawberry.input
class TariffBandInput:
    """Price per kWh of the local hours [startHour, endHour) on these weekdays (0 = Monday … 6 = Sunday)."""

    days: list[int]
    start_hour: int
    end_hour: int
    price_per_kwh: float


@strawberry.input
class TariffInput:
    """A site's tariff: bands (first match wins), the price of every other hour, a demand charge, currency."""

    currency: str
    default_price_per_kwh: float
    demand_charge_per_kw: float = 0.0
    bands: list[TariffBandInput] = strawberry.field(default_factory=list)


@strawberry.type
class TariffBand:
    """One price band."""

    days: list[int]
    start_hour: int
    end_hour: int
    price_per_kwh: float


@strawberry.type
class Tariff:
    """A site's time-of-use tariff."""

    currency: str
    default_price_per_kwh: float
    demand_charge_per_kw: float
    bands: list[TariffBand]

    @classmethod
    def from_tariff(cls, t: store.Tariff) -> "Tariff":
        """From a db.central.tariffs.Tariff."""
        return cls(
            currency=t.currency,
            default_price_per_kwh=t.default_price_per_kwh,
            demand_charge_per_kw=t.demand_charge_per_kw,
            bands=[
                TariffBand(
                    days=list(b.days),
                    start_hour=b.start_hour,
                    end_hour=b.end_hour,
                    price_per_kwh=b.price_per_kwh,
                )
                for b in t.bands
            ],
        )


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
