"""Meter configuration: the design's meters.json format, central's siteConfig, and their common model."""

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from bacpypes3.primitivedata import ObjectType, PropertyIdentifier
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from causes import Cause, text
from db.inventory import (
    MAX_INTERVAL_SECONDS,
    MIN_INTERVAL_SECONDS,
    InventoryMeter,
    InventoryPoint,
    bacnet_name,
    check_address,
)
from edge_agent.errors import ConfigError

logger = logging.getLogger(__name__)

DEFAULT_BACNET_PORT = 47808


def kebab(name: str) -> str:
    """'analogInput' or 'analog_input' -> 'analog-input' (bacpypes3's identifier spelling)."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"-\1", name).replace("_", "-").lower()


def _spelled(kind: type, value: object) -> object:
    """A known BACnet name in bacpypes3's spelling; anything else as written (the inventory check names it)."""
    if not isinstance(value, str):
        return value
    for written in (value, kebab(value)):
        try:
            return bacnet_name(kind, written, "name")
        except ValueError:
            continue
    return value


class DataPointConfig(InventoryPoint):
    """One value to read: the inventory's point (db/inventory.py) as meters.json and the collector use it.

    BACnet names are kept in bacpypes3's spelling ('analog-input', 'present-value'), as central's inventory
    keeps them; the design file's camelCase ('analogInput') or snake_case is accepted on input and converted.
    """

    model_config = ConfigDict(extra="ignore")

    @field_validator("object_type", mode="before")
    @classmethod
    def _object_type_spelling(cls, value: object) -> object:
        return _spelled(ObjectType, value)

    @field_validator("property", mode="before")
    @classmethod
    def _property_spelling(cls, value: object) -> object:
        return _spelled(PropertyIdentifier, value)


class MeterConfig(BaseModel):
    """A meter as in config/meters.json (id, name, bacnet_device_id, bacnet_ip, data_points)."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=200)
    bacnet_device_id: int | None = None
    bacnet_ip: str
    enabled: bool = True
    interval_seconds: float | None = Field(
        default=None, ge=MIN_INTERVAL_SECONDS, le=MAX_INTERVAL_SECONDS, description="its own polling interval"
    )
    data_points: list[DataPointConfig] = Field(default_factory=list)

    @field_validator("bacnet_ip")
    @classmethod
    def _address_form(cls, value: str) -> str:
        return check_address(value) if value.strip() else value.strip()

    @property
    def address(self) -> str:
        """The BACnet address 'ip' or 'ip:port' (port 47808 by default)."""
        return self.bacnet_ip

    def to_row(self) -> dict:
        """Columns of the edge `meters` table."""
        return meter_row(self, self.model_dump())

    def to_file_entry(self) -> dict:
        """The design's meters.json object for this meter (BACnet names in bacpypes3's spelling)."""
        return self.model_dump(exclude_defaults=False)


@dataclass(frozen=True, slots=True)
class PolledMeter:
    """A meter as the collector polls it: the running inventory's meter, its points shared, not copied.

    It has the attributes of MeterConfig the collector reads; a pydantic MeterConfig per meter (a model, a
    `__dict__` and a fields-set per point) doubled the inventory's memory (~11 MB at 1,000 meters x 10 points).
    """

    id: str
    name: str
    bacnet_device_id: int | None
    bacnet_ip: str
    enabled: bool
    interval_seconds: float | None
    data_points: tuple[InventoryPoint, ...]

    @classmethod
    def of(cls, meter: InventoryMeter) -> "PolledMeter":
        """The inventory meter as polled (its point objects are the inventory's own)."""
        return cls(
            meter.external_id,
            meter.name,
            meter.bacnet_device_id,
            meter.bacnet_address,
            meter.enabled,
            meter.interval_seconds,
            meter.points,
        )

    @property
    def address(self) -> str:
        """The BACnet address 'ip' or 'ip:port' (port 47808 by default)."""
        return self.bacnet_ip

    def to_row(self) -> dict:
        """Columns of the edge `meters` table, as MeterConfig.to_row gives them."""
        config = {
            "id": self.id,
            "name": self.name,
            "bacnet_device_id": self.bacnet_device_id,
            "bacnet_ip": self.bacnet_ip,
            "enabled": self.enabled,
            "interval_seconds": self.interval_seconds,
            "data_points": [p.model_dump() for p in self.data_points],
        }
        return meter_row(self, config)


def meter_row(meter: "MeterConfig | PolledMeter", config: dict) -> dict:
    """Columns of the edge `meters` table for a meter and its stored configuration."""
    return {
        "external_id": meter.id,
        "name": meter.name,
        "bacnet_device_id": meter.bacnet_device_id,
        "bacnet_address": meter.bacnet_ip,
        "enabled": meter.enabled,
        "config": config,
    }


# What the collector polls: a running inventory's meter, or a MeterConfig (a test read of an address).
Meter = PolledMeter | MeterConfig


def validate_meter(item: MeterConfig | dict) -> MeterConfig:
    """One meter checked; ConfigError lists each problem on one line ('data_points.0.instance: ...')."""
    if isinstance(item, MeterConfig):
        return item
    try:
        return MeterConfig.model_validate(item)
    except ValidationError as err:
        name = item.get("id") if isinstance(item, dict) else None
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
            for e in err.errors()
        )
        reason = f"meter {name!r}: {problems}" if isinstance(name, str) and name else problems
        raise ConfigError(text(Cause.INVALID_METER_CONFIG, reason=reason)) from err


def parse_meters(document: dict) -> list[MeterConfig]:
    """Validate a {"meters": [...]} document; ConfigError names the problems of the first bad meter."""
    meters = [validate_meter(item) for item in document.get("meters", [])]
    ids = [m.id for m in meters]
    if len(ids) != len(set(ids)):
        raise ConfigError("meter ids must be unique")
    return meters


def load_meters_file(path: str | Path) -> list[MeterConfig]:
    """Meters from a meters.json file ([] when the file does not exist)."""
    path = Path(path)
    if not path.exists():
        return []
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ConfigError(f"{path}: not valid JSON: {err}") from err
    return parse_meters(document)


def save_meters_file(path: str | Path, meters: list[MeterConfig]) -> None:
    """Write meters.json atomically (write a temp file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(
        json.dumps({"meters": [m.to_file_entry() for m in meters]}, indent=2) + "\n", encoding="utf-8"
    )
    tmp.replace(path)
