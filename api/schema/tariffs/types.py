"""Tariff types: a site's time-of-use tariff, its bands and their inputs."""

import strawberry

from db.central import tariffs as store


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
