"""CSV export of the energy query (consumption per 15 min, hour, local day or month), with a total row.

GET /export/energy.csv?meterId=…&point=…&start=…&end=…&resolution=QUARTER_HOUR|HOUR|DAY|MONTH with
`Authorization: Bearer <jwt>`: the buckets the GraphQL `energy` field serves, page by page, then one row
`total` with the summed consumption, cost and demand charge (what a chart of the same query shows).
"""

import csv
import io
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response

from api.services.csv_export import csv_response, parse_query
from api.services.readings import energy
from db.central.storage.readings_query import MAX_PAGE
from db.engine import session_scope

COLUMNS = (
    "start",
    "end",
    "count",
    "consumption",
    "first_value",
    "last_value",
    "mean",
    "min",
    "max",
    "peak_demand",
    "peak_demand_at",
    "completeness",
    "quality",
    "cost",
    "demand_cost",
    "currency",
)
RESOLUTIONS = ("QUARTER_HOUR", "HOUR", "DAY", "MONTH")
QUALITY_NAMES = ("good", "uncertain", "bad")


def _cell(value) -> str:
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


class _Totals:
    """Sums of the rows written so far."""

    def __init__(self) -> None:
        self.consumption = self.cost = self.demand_cost = None
        self.count = 0

    def add(self, bucket) -> None:
        self.count += bucket.count
        for name in ("consumption", "cost", "demand_cost"):
            value = getattr(bucket, name)
            if value is not None:
                setattr(self, name, (getattr(self, name) or 0.0) + value)


def csv_rows(buckets, currency: str | None, totals: _Totals) -> str:
    """CSV text of buckets (times ISO-8601 UTC, quality by name), adding them to totals."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for b in buckets:
        totals.add(b)
        cells = [getattr(b, name, None) for name in COLUMNS[:12]]
        writer.writerow(
            [
                *map(_cell, cells),
                QUALITY_NAMES[b.quality],
                _cell(b.cost),
                _cell(b.demand_cost),
                currency or "",
            ]
        )
    return out.getvalue()


async def _pages(sessions, query, first_page, cursor, currency) -> AsyncIterator[str]:
    totals = _Totals()
    yield ",".join(COLUMNS) + "\n"
    yield csv_rows(first_page, currency, totals)
    while cursor is not None:
        async with session_scope(sessions) as session:
            rows, cursor, _ = await energy(session, **query, first=MAX_PAGE, after=cursor)
        yield csv_rows(rows, currency, totals)
    row = ["total", "", str(totals.count), _cell(totals.consumption)] + [""] * 9
    row += [_cell(totals.cost), _cell(totals.demand_cost), currency or ""]
    yield ",".join(row) + "\n"


async def export_energy(request: Request) -> Response:
    """Stream one energy query as CSV (401 without a valid user token, 400/404 for bad queries)."""

    async def first_page(session, query: dict):
        return await energy(session, **query, first=MAX_PAGE)

    def stream(sessions, query: dict, page) -> AsyncIterator[str]:
        rows, cursor, facts = page
        currency = facts.tariff.currency if facts.tariff and facts.price else None
        return _pages(sessions, query, rows, cursor, currency)

    return await csv_response(
        request, "energy", lambda r: parse_query(r, RESOLUTIONS, "HOUR"), first_page, stream
    )
