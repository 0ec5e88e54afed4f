"""A site's meter inventory: the one definition of meters and points that edge and central exchange.

Central keeps it versioned per site (the control plane, see docs/contracts.md). The edge proposes (its installed
meters.json, a save in its dashboard, discovery); people edit it at central. A proposal is merged three ways,
meter by meter and field by field, against the version the edge last applied (its base):

- a field changed on one side only takes that side's value;
- a field changed on both sides to different values keeps central's, and the edge's value is recorded as a
  conflict in the new version's history entry (nothing is lost);
- a meter removed on one side and unchanged on the other is removed; removed on one side and changed on the
  other is kept with the change (a conflict is recorded).

BACnet names are spelled as bacpypes3 does ('analog-input', 'present-value'); the design file's camelCase is
accepted on input and normalised.
"""

import builtins
import hashlib
import json
import re
import sys
from typing import Any

from bacpypes3.primitivedata import ObjectType, PropertyIdentifier
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel

MIN_INTERVAL_SECONDS = 5.0
MAX_INTERVAL_SECONDS = 86_400.0
MAX_POINTS_PER_METER = 200
MAX_METERS_PER_SITE = 1_000
MAX_POINTS_PER_SITE = 10_000
MAX_BACNET_INSTANCE = 4_194_303
EDGE_ORIGINS = ("file", "edge_dashboard", "discovery")
PEOPLE_ORIGINS = ("central_dashboard", "graphql", "mcp", "cli")
METER_FIELDS = ("name", "bacnet_address", "bacnet_device_id", "enabled", "interval_seconds", "points")

# Field names in Python, camelCase on the wire (GraphQL, the edge's stored copy reads both).
WIRE = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True)


class InventoryError(ValueError):
    """An inventory that cannot be accepted; the message says which meter or point and why."""


def bacnet_name(kind: type, value: str, what: str) -> str:
    """value in bacpypes3's spelling ('analogInput' -> 'analog-input'); InventoryError when unknown."""
    try:
        return str(kind(value))
    except (ValueError, TypeError) as err:
        raise ValueError(f"unknown BACnet {what} {value!r}") from err


_IP = r"(?:\d{1,3}\.){3}\d{1,3}"
_PORT = r"(?::\d{1,5})?"
# ip | ip:port | network:ip[:port] (a BACnet/IP device behind a router) | network:mac (e.g. MS/TP 5:12, 5:0x0c)
ADDRESS_FORMS = re.compile(
    rf"^(?:{_IP}{_PORT}|\d{{1,5}}:{_IP}{_PORT}|\d{{1,5}}:(?:\d{{1,3}}|0x[0-9a-fA-F]{{2,12}}))$"
)
ADDRESS_HELP = (
    "a BACnet address is 'ip' (port 47808), 'ip:port', 'network:ip[:port]' for a BACnet/IP device behind a "
    "router, or 'network:mac' for a device on another BACnet network (e.g. MS/TP '5:12' or '5:0x0c')"
)


def check_address(address: str) -> str:
    """A BACnet address in one of the forms of ADDRESS_HELP (stripped); ValueError says which forms."""
    value = address.strip()
    if not ADDRESS_FORMS.match(value):
        raise ValueError(f"{value!r} is not a BACnet address: {ADDRESS_HELP}")
    network = value.split(":")[0]
    if value.count(":") and "." not in network and not 1 <= int(network) <= 65534:
        raise ValueError(f"{value!r}: BACnet network numbers are 1..65534")
    return value


_FIELDS_SETS: dict[frozenset[str], set[str]] = {}


def share_fields_set(model: BaseModel) -> BaseModel:
    """Let the model use one shared copy of its fields-set (the names it was given); returns the model.

    A site holds up to 10,000 points, each a frozen model whose fields-set (a set of 7 names, 728 bytes) was
    the largest part of it. A frozen model never changes its set: pydantic copies it before any change
    (model_copy), so equal sets can be one object.
    """
    fields_set = model.__pydantic_fields_set__
    shared = _FIELDS_SETS.setdefault(frozenset(fields_set), fields_set)
    object.__setattr__(model, "__pydantic_fields_set__", shared)
    return model


class InventoryPoint(BaseModel):
    """One value read from a meter: BACnet object and property, the point's name, unit and kind."""

    model_config = WIRE

    name: str = Field(min_length=1, max_length=100)
    object_type: str = "analog-input"
    instance: int = Field(ge=0, le=MAX_BACNET_INSTANCE)
    property: str = "present-value"
    unit: str | None = Field(default=None, max_length=40)
    cumulative: bool = False
    cov: bool = False

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("a point needs a name")
        return sys.intern(value)  # every meter of a kind has the same point names: one string each

    @field_validator("object_type")
    @classmethod
    def _object_type(cls, value: str) -> str:
        return sys.intern(bacnet_name(ObjectType, value, "object type"))

    @field_validator("property")
    @classmethod
    def _property(cls, value: str) -> str:
        return sys.intern(bacnet_name(PropertyIdentifier, value, "property"))

    @field_validator("unit")
    @classmethod
    def _unit(cls, value: str | None) -> str | None:
        return None if value is None else sys.intern(value)

    @model_validator(mode="after")
    def _compact(self) -> "InventoryPoint":
        return share_fields_set(self)

    @builtins.property
    def object_id(self) -> str:
        """'analog-input,0', as bacpypes3 reads it."""
        return f"{self.object_type},{self.instance}"

    @builtins.property
    def property_id(self) -> str:
        """'present-value', as bacpypes3 reads it."""
        return self.property


class InventoryMeter(BaseModel):
    """One meter of a site: where it is on BACnet, how often to poll it and which points to read."""

    model_config = WIRE

    external_id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=200)
    bacnet_address: str = Field(min_length=1, max_length=64)
    bacnet_device_id: int | None = Field(default=None, ge=0, le=MAX_BACNET_INSTANCE)
    enabled: bool = True
    interval_seconds: float | None = Field(default=None, ge=MIN_INTERVAL_SECONDS, le=MAX_INTERVAL_SECONDS)
    points: tuple[InventoryPoint, ...] = Field(default=(), max_length=MAX_POINTS_PER_METER)

    @field_validator("external_id", "name")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        return value

    @field_validator("bacnet_address")
    @classmethod
    def _address(cls, value: str) -> str:
        return check_address(value)

    @model_validator(mode="after")
    def _unique_points(self) -> "InventoryMeter":
        names = [p.name for p in self.points]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"point names must be unique within a meter: {', '.join(twice)}")
        return share_fields_set(self)


class Inventory(BaseModel):
    """A whole site's meters: what one version holds."""

    model_config = WIRE

    meters: tuple[InventoryMeter, ...] = Field(default=(), max_length=MAX_METERS_PER_SITE)

    @model_validator(mode="after")
    def _limits(self) -> "Inventory":
        ids = [m.external_id for m in self.meters]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"meter ids must be unique: {', '.join(twice)}")
        points = sum(len(m.points) for m in self.meters)
        if points > MAX_POINTS_PER_SITE:
            raise ValueError(f"{points} points exceed the site's limit of {MAX_POINTS_PER_SITE}")
        return self

    def by_id(self) -> dict[str, InventoryMeter]:
        """Meters by external id."""
        return {m.external_id: m for m in self.meters}

    def document(self, wire: bool = False) -> list[dict]:
        """JSON-ready meters sorted by external id: the stored form, or camelCase for GraphQL (wire=True)."""
        return [m.model_dump(by_alias=wire) for m in sorted(self.meters, key=lambda m: m.external_id)]

    def digest(self) -> str:
        """A short hash of the content, equal for equal inventories."""
        text = json.dumps(self.document(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def point_fields(point: Any) -> dict:
    """An InventoryPoint's fields read from any object spelling them alike (a data_points row, a config)."""
    return {name: getattr(point, name) for name in InventoryPoint.model_fields}


def parse_inventory(meters: Any) -> Inventory:
    """Validate a list of meter dicts; InventoryError names the first problem (meter id and field)."""
    try:
        return Inventory.model_validate({"meters": meters or []})
    except ValidationError as err:
        raise InventoryError(describe(err, meters)) from err


def describe(err: ValidationError, meters: Any) -> str:
    """A validation error as one sentence a person can act on."""
    first = err.errors()[0]
    where = list(first["loc"])
    label = []
    if len(where) >= 2 and where[0] == "meters" and isinstance(where[1], int):
        item = meters[where[1]] if isinstance(meters, list) and where[1] < len(meters) else {}
        label.append(f"meter {item.get('external_id') or where[1]!r}" if isinstance(item, dict) else "meter")
        where = where[2:]
        if len(where) >= 2 and where[0] == "points" and isinstance(where[1], int):
            label.append(f"point {where[1] + 1}")
            where = where[2:]
    field = ".".join(str(p) for p in where)
    message = first["msg"].removeprefix("Value error, ")
    return f"invalid inventory: {' '.join(label) + ': ' if label else ''}{field + ': ' if field else ''}{message}"


def _fields(meter: InventoryMeter | None) -> dict:
    if meter is None:
        return {name: None for name in METER_FIELDS}
    return {name: getattr(meter, name) for name in METER_FIELDS}


def merge(base: Inventory, central: Inventory, edge: Inventory) -> tuple[Inventory, list[dict]]:
    """The three-way merge of the module docstring: the merged inventory and the conflicts it resolved."""
    b, c, e = base.by_id(), central.by_id(), edge.by_id()
    merged, conflicts = [], []
    for external_id in sorted(set(b) | set(c) | set(e)):
        old, ours, theirs = b.get(external_id), c.get(external_id), e.get(external_id)
        if ours == theirs:
            result = ours
        elif ours == old:
            result = theirs
        elif theirs == old:
            result = ours
        elif ours is None or theirs is None:
            result = ours or theirs  # removed on one side, changed on the other: keep the change
            conflicts.append(
                {"meter": external_id, "field": "meter", "kept": "changed", "dropped": "removal"}
            )
        else:
            values = _fields(ours)
            before, edge_values = _fields(old), _fields(theirs)
            for name in METER_FIELDS:
                if edge_values[name] == values[name] or edge_values[name] == before[name]:
                    continue
                if values[name] == before[name]:
                    values[name] = edge_values[name]
                else:
                    conflicts.append(
                        {"meter": external_id, "field": name, "kept": _show(values[name]),
                         "dropped": _show(edge_values[name])}
                    )  # fmt: skip
            result = InventoryMeter(external_id=external_id, **values)
        if result is not None:
            merged.append(result)
    return Inventory(meters=tuple(merged)), conflicts


def _show(value: Any) -> Any:
    if isinstance(value, tuple):
        return [p.name for p in value]
    return value


def changes(before: Inventory, after: Inventory) -> list[str]:
    """What changed from one version to the next, one short line per meter field."""
    b, a = before.by_id(), after.by_id()
    lines = []
    for external_id in sorted(set(b) | set(a)):
        old, new = b.get(external_id), a.get(external_id)
        if old == new:
            continue
        if old is None:
            lines.append(f"{external_id}: added ({len(new.points)} points)")
        elif new is None:
            lines.append(f"{external_id}: removed")
        else:
            for name in METER_FIELDS:
                was, now = getattr(old, name), getattr(new, name)
                if was != now:
                    shown = f"{len(was)} -> {len(now)} points" if name == "points" else f"{was!r} -> {now!r}"
                    lines.append(f"{external_id}: {name} {shown}")
    return lines
