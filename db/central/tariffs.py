"""Time-of-use tariffs per site: price per kWh by weekday and local hour band, demand charge per kW of peak.

A tariff is stored as one row per site (table site_tariffs, migration 0007_tariffs). Bands are
{"days": [0..6] (Monday = 0), "start_hour": 0..23, "end_hour": 1..24, "price_per_kwh": x}; the first band
holding a local (weekday, hour) gives its price, else `default_price_per_kwh`. The demand charge is per kW
of a month's highest 15-minute demand.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Column, Double, ForeignKey, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field

from db.central.base import CentralTable
from db.clock import utcnow
from db.errors import NotFound
from db.types import BigId, UTCDateTime


class InvalidTariff(ValueError):
    """A tariff that cannot be applied (bad band, currency or price)."""


class SiteTariff(CentralTable, table=True):
    """A site's time-of-use tariff."""

    __tablename__ = "site_tariffs"
    site_id: int = Field(
        sa_column=Column(BigId, ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True)
    )
    currency: str = Field(max_length=3)
    default_price_per_kwh: float = Field(sa_type=Double)
    demand_charge_per_kw: float = Field(default=0.0, sa_type=Double)
    bands: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


@dataclass(frozen=True)
class Band:
    """Price of the local hours [start_hour, end_hour) on the given weekdays (Monday = 0)."""

    days: tuple[int, ...]
    start_hour: int
    end_hour: int
    price_per_kwh: float


@dataclass(frozen=True)
class Tariff:
    """A checked tariff."""

    currency: str
    default_price_per_kwh: float
    demand_charge_per_kw: float = 0.0
    bands: tuple[Band, ...] = field(default_factory=tuple)

    def price(self, weekday: int, hour: int) -> float:
        """Price per kWh of a local weekday and hour."""
        for band in self.bands:
            if weekday in band.days and band.start_hour <= hour < band.end_hour:
                return band.price_per_kwh
        return self.default_price_per_kwh

    def pricer(self, timezone: str) -> Callable[[datetime], float]:
        """Price per kWh of the local hour holding an instant."""
        zone = ZoneInfo(timezone)

        def at(ts: datetime) -> float:
            local = ts.astimezone(zone)
            return self.price(local.weekday(), local.hour)

        return at


def make_tariff(
    currency: str, default_price_per_kwh: float, demand_charge_per_kw: float = 0.0, bands: list | None = None
) -> Tariff:
    """A Tariff from plain values; InvalidTariff says what is wrong."""
    if not (len(currency) == 3 and currency.isalpha() and currency.isupper()):
        raise InvalidTariff(f"currency must be a three-letter ISO code like EUR, not {currency!r}")
    if default_price_per_kwh < 0 or demand_charge_per_kw < 0:
        raise InvalidTariff("prices must not be negative")
    checked = []
    for n, raw in enumerate(bands or []):
        try:
            band = Band(
                tuple(sorted({int(d) for d in raw["days"]})),
                int(raw["start_hour"]),
                int(raw["end_hour"]),
                float(raw["price_per_kwh"]),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise InvalidTariff(f"band {n}: needs days, start_hour, end_hour and price_per_kwh") from err
        if not band.days or any(d < 0 or d > 6 for d in band.days):
            raise InvalidTariff(f"band {n}: days are 0 (Monday) to 6 (Sunday)")
        if not 0 <= band.start_hour < band.end_hour <= 24:
            raise InvalidTariff(f"band {n}: hours must satisfy 0 <= start_hour < end_hour <= 24")
        if band.price_per_kwh < 0:
            raise InvalidTariff(f"band {n}: price must not be negative")
        checked.append(band)
    return Tariff(currency, float(default_price_per_kwh), float(demand_charge_per_kw), tuple(checked))


def tariff_of(row: SiteTariff) -> Tariff:
    """The Tariff of a stored row."""
    return make_tariff(row.currency, row.default_price_per_kwh, row.demand_charge_per_kw, row.bands)


def band_dicts(tariff: Tariff) -> list[dict]:
    """Bands as stored."""
    return [
        {
            "days": list(b.days),
            "start_hour": b.start_hour,
            "end_hour": b.end_hour,
            "price_per_kwh": b.price_per_kwh,
        }
        for b in tariff.bands
    ]


async def get_tariff(session: AsyncSession, site_id: int) -> Tariff | None:
    """The site's tariff, None when it has none."""
    row = await session.get(SiteTariff, site_id)
    return tariff_of(row) if row is not None else None


async def tariffs_of(session: AsyncSession, site_ids: list[int]) -> dict[int, Tariff]:
    """Tariffs of these sites (those that have one)."""
    rows = await session.scalars(select(SiteTariff).where(SiteTariff.site_id.in_(site_ids)))
    return {row.site_id: tariff_of(row) for row in rows}


async def set_tariff(session: AsyncSession, site_id: int, tariff: Tariff | None) -> None:
    """Store (or with None remove) a site's tariff; NotFound for an unknown site."""
    from db.central.models import Site

    if await session.get(Site, site_id) is None:
        raise NotFound(f"no site with id {site_id}")
    row = await session.get(SiteTariff, site_id)
    if tariff is None:
        if row is not None:
            await session.delete(row)
        return
    if row is None:
        row = SiteTariff(site_id=site_id, currency=tariff.currency, default_price_per_kwh=0.0)
        session.add(row)
    row.currency = tariff.currency
    row.default_price_per_kwh = tariff.default_price_per_kwh
    row.demand_charge_per_kw = tariff.demand_charge_per_kw
    row.bands = band_dicts(tariff)
    row.updated_at = utcnow()
    await session.flush()
