"""CSV export of any readings query (raw, minute, hour, day), streamed page by page, with the API's auth.

Columns are ReadingRow's fields: above RAW a cumulative register's value is its consumption per bucket.

GET /export/readings.csv?meterId=…&point=…&start=…&end=…&resolution=RAW|MINUTE|HOUR|DAY
with `Authorization: Bearer <jwt>` (parameters and auth: api/services/csv_export.py). Pages of the same query the GraphQL `readings` field serves are
written as they are read, so a year of one-minute data never sits in memory.
"""

import csv
import io
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response

from api.services.csv_export import csv_response, parse_query
from api.services.readings import readings
from db.central.storage.readings_query import MAX_PAGE, ReadingRow
from db.engine import session_scope

COLUMNS = tuple(ReadingRow.model_fields)  # ts, value, min, max, count, quality, consumption, first/last, …
RESOLUTIONS = ("RAW", "MINUTE", "HOUR", "DAY")


def csv_lines(rows: list[ReadingRow]) -> str:
    """CSV text of rows (timestamps in ISO-8601 UTC; empty cells for missing figures)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        cells = (getattr(row, name, None) for name in COLUMNS[1:])  # a raw row holds the first six
        writer.writerow([row.ts.isoformat(), *("" if cell is None else cell for cell in cells)])
    return buffer.getvalue()


async def _pages(
    sessions, query: dict, first_page: list[ReadingRow], cursor: str | None
) -> AsyncIterator[str]:
    yield ",".join(COLUMNS) + "\n"
    yield csv_lines(first_page)
    while cursor is not None:
        # One short transaction per page: a slow download never holds a connection for long.
        async with session_scope(sessions) as session:
            rows, cursor = await readings(session, **query, first=MAX_PAGE, after=cursor)
        yield csv_lines(rows)


async def export_readings(request: Request) -> Response:
    """Stream the readings of one query as CSV (401 without a valid user token, 400/404 for bad queries)."""

    async def first_page(session, query: dict):
        return await readings(session, **query, first=MAX_PAGE)

    def stream(sessions, query: dict, page) -> AsyncIterator[str]:
        return _pages(sessions, query, *page)

    return await csv_response(
        request, "readings", lambda r: parse_query(r, RESOLUTIONS, "RAW"), first_page, stream
    )
