"""The edge agent's local API as the on-site dashboard uses it: its URL and how refusals become its errors."""

import os

from causes import LOGIN_CAUSES, cause_of
from ui_common.graphql_client import GraphQLApi
from ui_edge.errors import AgentUnreachable, ApiError, NotAuthenticated, UiEdgeError

API_URL_ENV = "METERIT_EDGE_API_URL"


def api_url() -> str:
    """METERIT_EDGE_API_URL, else the agent's own LOCAL_API_HOST / LOCAL_API_PORT (default 127.0.0.1:3002)."""
    url = os.environ.get(API_URL_ENV)
    if url:
        return url
    host = os.environ.get("LOCAL_API_HOST", "127.0.0.1")
    host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    return f"http://{host}:{os.environ.get('LOCAL_API_PORT', '3002')}/graphql"


def refused(message: str, status: int = 200) -> UiEdgeError:
    """The dashboard's error for a refusal: a login is needed, or the API's message."""
    if status == 401 or cause_of(message) in LOGIN_CAUSES:
        return NotAuthenticated(message)
    return ApiError(message)


# Discovery and test reads take long; the agent is local, so silence and failed connects show quickly.
LOCAL = GraphQLApi(
    url=api_url,
    name="edge agent",
    unreachable=AgentUnreachable,
    refused=refused,
    timeout=30.0,
    connect_timeout=5.0,
    tick_seconds=3.0,
)
