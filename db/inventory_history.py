"""A site inventory's history entries (db/inventory.py has the inventory): the one definition both sides show.

Central records every change with its origin, author and conflicts; the edge keeps the history central last
sent. Both derive their GraphQL types from these models, and central's MCP server shows them as they are.
"""

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

# Field names in Python, camelCase on the wire, as db/inventory.py's WIRE (the edge keeps central's camelCase
# answer; MCP shows a history entry in the same spelling as the inventory's meters beside it).
HISTORY = ConfigDict(frozen=True, alias_generator=to_camel, populate_by_name=True)


class InventoryConflictEntry(BaseModel):
    """A field both sides changed differently: the value kept (central's) and the one recorded instead (JSON text)."""

    model_config = HISTORY

    meter: str
    field: str
    kept: str
    dropped: str

    @field_validator("kept", "dropped", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        return value if isinstance(value, str) else json.dumps(value)

    @classmethod
    def stored(cls, item: dict) -> "InventoryConflictEntry":
        """From a conflict as central stores it (its values as they were, each shown as JSON text)."""
        kept, dropped = json.dumps(item.get("kept")), json.dumps(item.get("dropped"))
        return cls(meter=item["meter"], field=item["field"], kept=kept, dropped=dropped)


class InventoryHistoryEntry(BaseModel):
    """One entry of a site's inventory history."""

    model_config = HISTORY

    version: int | None = Field(description="the version it made; null when every edit lost a conflict")
    base_version: int | None = None
    origin: str
    author: str | None = None
    created_at: datetime
    changes: list[str] = Field(default_factory=list)
    conflicts: list[InventoryConflictEntry] = Field(default_factory=list)

    @field_validator("changes", "conflicts", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value

    @classmethod
    def stored(cls, row: Any) -> "InventoryHistoryEntry":
        """From a row of central's inventory_changes (or anything spelling its fields alike)."""
        fields = {
            name: getattr(row, name) for name in ("version", "base_version", "origin", "author", "created_at")
        }
        conflicts = [InventoryConflictEntry.stored(c) for c in row.conflicts or []]
        return cls(**fields, changes=list(row.changes or []), conflicts=conflicts)


def rebuild(model: BaseModel, cls: type, **nested: type) -> Any:
    """`cls` built from a model's fields, the lists named in `nested` item by item as the classes given there.

    Central's and the edge's GraphQL types derive from the same models (here and in db/inventory.py), but
    Strawberry's pydantic registry keeps one type per model: nested values are converted by name instead.
    """
    fields = {name: getattr(model, name) for name in type(model).model_fields}
    for name, item_cls in nested.items():
        fields[name] = [item_cls(**item.model_dump()) for item in fields[name]]
    return cls(**fields)
