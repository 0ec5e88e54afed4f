"""Turning GraphQL IDs into database ids."""

import strawberry

from api.errors import InvalidInput


def to_int(value: strawberry.ID | str | None, what: str = "id") -> int | None:
    """The integer behind an ID (None stays None); InvalidInput when it is not one."""
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as err:
        raise InvalidInput(f"invalid {what}: {value!r}") from err
