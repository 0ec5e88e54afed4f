"""CSV export of any readings query (raw, minute, hour, day), streamed page by page, with the API's auth.

Columns are ReadingRow's fields: above RAW a cumulative register's value is its consumption per bucket.

GET /export/readings.csv?meterId=…&point=…&start=…&end=…&resolution=RAW|MINUTE|HOUR|DAY
with `Authorization: Bearer <jwt>`. Pages of the same query the GraphQL `readings` field serves are
written as they are read, so a year of one-minute data never sits in memory.
"""

import csv
import io
import logging
from collections.abc import AsyncIterator
from datetime import datetime

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from api.auth import bearer_token, user_from_token
from api.errors import ApiError, AuthError, InvalidInput, NotFoundError
from api.services.access import scope_of
from api.services.readings import readings
from db.engine import session_scope
from db.readings_query import MAX_PAGE, ReadingRow

logger = logging.getLogger(__name__)

COLUMNS = tuple(ReadingRow.model_fields)  # ts, value, min, max, count, quality, consumption, first/last, …
RESOLUTIONS = ("RAW", "MINUTE", "HOUR", "DAY")


def _parse_time(value: str | None, name: str) -> datetime:
    """An ISO-8601 time with zone from a query parameter; InvalidInput otherwise."""
    if not value:
        raise InvalidInput(f"{name} is required")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as err:
        raise InvalidInput(f"{name} must be an ISO-8601 time with zone") from err
    if parsed.tzinfo is None:
        raise InvalidInput(f"{name} must carry a time zone")
    return parsed


def _parse(request: Request) -> dict:
    params = request.query_params
    try:
        meter_id = int(params.get("meterId", ""))
    except ValueError as err:
        raise InvalidInput("meterId must be an integer") from err
    point = params.get("point", "")
    if not point:
        raise InvalidInput("point is required")
    resolution = params.get("resolution", "RAW").upper()
    if resolution not in RESOLUTIONS:
        raise InvalidInput(f"resolution must be one of {', '.join(RESOLUTIONS)}")
    return {
        "meter_id": meter_id,
        "point": point,
        "start": _parse_time(params.get("start"), "start"),
        "end": _parse_time(params.get("end"), "end"),
        "resolution": resolution.lower(),
    }


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
    settings, sessions = request.app.state.settings, request.app.state.sessions
    token = bearer_token(request.headers.get("authorization"))
    if not token:
        return PlainTextResponse("Authorization: Bearer <token> required", status_code=401)
    try:
        query = _parse(request)
        async with session_scope(sessions) as session:
            caller = await scope_of(session, await user_from_token(session, settings, token))
            query["scope"] = caller
            # The first page is read before answering, so a bad query gets a status code, not a cut stream.
            first_page, cursor = await readings(session, **query, first=MAX_PAGE)
    except AuthError as err:
        return PlainTextResponse(str(err), status_code=401)
    except NotFoundError as err:
        return PlainTextResponse(str(err), status_code=404)
    except (InvalidInput, ApiError) as err:
        return PlainTextResponse(str(err), status_code=400)
    point = "".join(c if c.isalnum() or c in "-_" else "_" for c in query["point"])
    name = f"readings-{query['meter_id']}-{point}-{query['resolution']}.csv"
    logger.info("exporting %s", name)
    return StreamingResponse(
        _pages(sessions, query, first_page, cursor),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
