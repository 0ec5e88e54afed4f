"""Meter types: a meter with its state and data points, and the meter input."""

import strawberry
from strawberry.experimental.pydantic import type as pydantic_type

from api.schema.inventory.types import InventoryPointInput
from api.services.meters import MeterInfo, PointInfo
from db.central import models
from db.central.meters import PointView


@pydantic_type(model=PointInfo, all_fields=True)
class DataPoint:
    """One property of a meter that the edge reads, with its newest stored value (api/services/meters.py)."""

    id: strawberry.ID


@pydantic_type(model=MeterInfo, all_fields=True)
class Meter:
    """A BACnet meter at a site (the fields of api/services/meters.py MeterInfo, ids as GraphQL IDs)."""

    id: strawberry.ID
    site_id: strawberry.ID


def _meter_from_model(
    cls, meter: models.Meter, points: list[PointView], site_interval: float | None = None
) -> Meter:
    """From a meters row and its points; `site_interval` is its site's collection interval."""
    return cls.from_pydantic(MeterInfo.of(meter, points, site_interval))


# Strawberry's pydantic types drop class methods: from_model is set on the derived type.
Meter.from_model = classmethod(_meter_from_model)


@strawberry.input
class MeterInput:
    """A meter's configuration; fields left null keep their value, dataPoints (when given) replace the list."""

    external_id: str
    name: str | None = None
    bacnet_device_id: int | None = None
    bacnet_address: str | None = None
    enabled: bool | None = None
    interval_seconds: float | None = None
    data_points: list[InventoryPointInput] | None = None
