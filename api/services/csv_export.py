"""What both CSV exports share: the query parameters, the user token check, and the streamed answer.

GET /export/<kind>.csv?meterId=…&point=…&start=…&end=…&resolution=… with `Authorization: Bearer <jwt>`.
The first page is read before answering, so a bad query gets a status code instead of a cut stream; the rest
is streamed page by page (api/services/export.py: readings, api/services/export_energy.py: energy buckets).
"""

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from api.auth import bearer_token, user_from_token
from api.errors import ApiError, AuthError, InvalidInput, NotFoundError
from api.services.access import scope_of
from db.engine import session_scope

logger = logging.getLogger(__name__)


def parse_time(value: str | None, name: str) -> datetime:
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


def parse_query(request: Request, resolutions: tuple[str, ...], default: str) -> dict:
    """meter_id, point, start, end and resolution (lower case) from the query string; InvalidInput otherwise."""
    params = request.query_params
    try:
        meter_id = int(params.get("meterId", ""))
    except ValueError as err:
        raise InvalidInput("meterId must be an integer") from err
    point = params.get("point", "")
    if not point:
        raise InvalidInput("point is required")
    resolution = params.get("resolution", default).upper()
    if resolution not in resolutions:
        raise InvalidInput(f"resolution must be one of {', '.join(resolutions)}")
    return {
        "meter_id": meter_id,
        "point": point,
        "start": parse_time(params.get("start"), "start"),
        "end": parse_time(params.get("end"), "end"),
        "resolution": resolution.lower(),
    }


async def csv_response(
    request: Request,
    kind: str,
    query: Callable[[Request], dict],
    first_page: Callable[[Any, dict], Awaitable[Any]],
    stream: Callable[[Any, dict, Any], AsyncIterator[str]],
) -> Response:
    """Check the token, read the first page (first_page(session, query)), then stream(sessions, query, page).

    The query carries the caller's scope, so a meter of another owner's site is a 404 like a missing one.
    401 without a valid user token, 404 for an unknown meter or point, 400 for any other bad query.
    """
    settings, sessions = request.app.state.settings, request.app.state.sessions
    token = bearer_token(request.headers.get("authorization"))
    if not token:
        return PlainTextResponse("Authorization: Bearer <token> required", status_code=401)
    try:
        asked = query(request)
        async with session_scope(sessions) as session:
            asked["scope"] = await scope_of(session, await user_from_token(session, settings, token))
            page = await first_page(session, asked)
    except AuthError as err:
        return PlainTextResponse(str(err), status_code=401)
    except NotFoundError as err:
        return PlainTextResponse(str(err), status_code=404)
    except (InvalidInput, ApiError) as err:
        return PlainTextResponse(str(err), status_code=400)
    point = "".join(c if c.isalnum() or c in "-_" else "_" for c in asked["point"])
    name = f"{kind}-{asked['meter_id']}-{point}-{asked['resolution']}.csv"
    logger.info("exporting %s", name)
    return StreamingResponse(
        stream(sessions, asked, page),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
