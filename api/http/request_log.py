"""What the request log line of a request says beyond HTTP: GraphQL operation, site, upload batch id."""

import re

LOG_KEY = "meterit.log"
_NAMED = re.compile(r"^\s*(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]{0,63})")
_FIRST_FIELD = re.compile(r"\{\s*(?:[_A-Za-z][_0-9A-Za-z]*\s*:\s*)?([_A-Za-z][_0-9A-Za-z]{0,63})")


def operation_of(query: str | None, name: str | None) -> str | None:
    """The operation's name, else the name in the document, else its first root field (e.g. `siteConfig`)."""
    if name:
        return name[:64]
    if not isinstance(query, str):
        return None
    named = _NAMED.match(query)
    return named.group(1) if named else root_field_of(query)


def root_field_of(query: str | None) -> str | None:
    """The first root field of a GraphQL document (`uploadReadings`), None when there is none."""
    field = _FIRST_FIELD.search(query) if isinstance(query, str) else None
    return field.group(1) if field else None


def root_fields(schema) -> frozenset[str]:
    """Every field of the schema's query, mutation and subscription types: the metric's operation labels."""
    graphql_schema = schema._schema
    types = (graphql_schema.query_type, graphql_schema.mutation_type, graphql_schema.subscription_type)
    return frozenset(name for kind in types if kind is not None for name in kind.fields)


def note(request, **fields) -> None:
    """Add fields to the request's log line (nothing for websockets or requests outside the middleware)."""
    scope = getattr(request, "scope", None)
    entry = scope.get(LOG_KEY) if isinstance(scope, dict) else None
    if entry is not None:
        entry.update({k: v for k, v in fields.items() if v is not None})
