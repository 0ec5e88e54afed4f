"""The dashboards' GraphQL client: each kind of failure becomes the right error of the right dashboard."""

import functools

import httpx
import pytest

from ui_client.api import CENTRAL
from ui_client.errors import ApiError, ApiUnreachable, Forbidden, NotAuthenticated
from ui_common import graphql_client
from ui_edge import errors as edge_errors
from ui_edge.api import LOCAL
from ui_edge.api import refused as edge_refused


@pytest.fixture
def answer(monkeypatch):
    """Set how the API answers: a function of the request returning an httpx.Response (or raising)."""
    seen: list[httpx.Request] = []

    def _use(handler):
        def _record(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return handler(request)

        client = functools.partial(httpx.AsyncClient, transport=httpx.MockTransport(_record))
        monkeypatch.setattr(graphql_client.httpx, "AsyncClient", client)
        return seen

    return _use


async def test_data_comes_back_and_the_token_goes_as_a_bearer(answer):
    seen = answer(lambda request: httpx.Response(200, json={"data": {"me": {"email": "a@b"}}}))
    assert await CENTRAL.execute("query { me { email } }", token="t0k") == {"me": {"email": "a@b"}}
    assert seen[0].headers["authorization"] == "Bearer t0k"
    await LOCAL.execute("query { status { collecting } }")
    assert "authorization" not in seen[1].headers


@pytest.mark.parametrize(
    ("status", "body", "central", "edge"),
    [
        (401, "token expired", NotAuthenticated, edge_errors.NotAuthenticated),
        (403, "", Forbidden, edge_errors.ApiError),
        (502, "bad gateway", ApiUnreachable, edge_errors.AgentUnreachable),
        (400, "<html>no</html>", ApiError, edge_errors.ApiError),
    ],
)
async def test_http_failures_become_each_dashboards_errors(answer, status, body, central, edge):
    answer(lambda request: httpx.Response(status, text=body))
    with pytest.raises(central):
        await CENTRAL.execute("query { x }")
    with pytest.raises(edge):
        await LOCAL.execute("query { x }")


async def test_graphql_errors_are_mapped_by_the_dashboard(answer):
    answer(lambda request: httpx.Response(200, json={"errors": [{"message": "not authenticated"}]}))
    with pytest.raises(NotAuthenticated):
        await CENTRAL.execute("query { x }")
    with pytest.raises(edge_errors.NotAuthenticated):
        await LOCAL.execute("query { x }")
    answer(lambda request: httpx.Response(200, json={"errors": [{"message": "a"}, {"message": "b"}]}))
    with pytest.raises(ApiError, match="^a; b$"):
        await CENTRAL.execute("query { x }")


async def test_a_silent_api_is_unreachable(answer):
    def refuse(request):
        raise httpx.ConnectError("connection refused", request=request)

    answer(refuse)
    with pytest.raises(ApiUnreachable, match="central API unreachable at http"):
        await CENTRAL.execute("query { x }")
    with pytest.raises(edge_errors.AgentUnreachable, match="edge agent unreachable at http"):
        await LOCAL.execute("query { x }")


def test_edge_refusals_and_websocket_urls():
    assert isinstance(
        edge_refused("not authenticated: log in with the local password"), edge_errors.NotAuthenticated
    )
    assert type(edge_refused("meter m9 is not configured")) is edge_errors.ApiError
    assert graphql_client.ws_url("https://central.example/graphql") == "wss://central.example/graphql"
    assert graphql_client.ws_url("http://127.0.0.1:3002/graphql") == "ws://127.0.0.1:3002/graphql"
