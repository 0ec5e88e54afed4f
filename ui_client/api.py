"""The central API as the central dashboard uses it: its URL and how its refusals become the dashboard's errors."""

import os

from causes import LOGIN_CAUSES, Cause, cause_of
from ui_client.errors import ApiError, ApiUnreachable, Forbidden, NotAuthenticated, UiClientError
from ui_common.graphql_client import GraphQLApi

API_URL_ENV = "METERIT_API_URL"
DEFAULT_API_URL = "http://127.0.0.1:3001/graphql"
ORIGIN_HEADER = {"X-MeterIT-Origin": "central_dashboard"}  # central records edits made here as such


def api_url() -> str:
    """The central GraphQL endpoint, from METERIT_API_URL."""
    return os.environ.get(API_URL_ENV, DEFAULT_API_URL)


def refused(message: str, status: int = 200) -> UiClientError:
    """The dashboard's error for a refusal: log in again, the admin role is needed, or the API's message."""
    cause = cause_of(message)
    if status == 401 or cause in LOGIN_CAUSES:
        return NotAuthenticated(message)
    if status == 403 or cause is Cause.ADMIN_REQUIRED:
        return Forbidden(message)
    return ApiError(message)


CENTRAL = GraphQLApi(
    url=api_url, name="central API", unreachable=ApiUnreachable, refused=refused, headers=ORIGIN_HEADER
)
