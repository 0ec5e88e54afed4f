"""Local login: with a password (API bound beyond 127.0.0.1), every operation but login needs a token."""

import pytest
from gql.transport.exceptions import TransportQueryError

from tests.edge_api.site import dead_central_url, edge_settings, local_site, take, write_meters, ws_client

PASSWORD = "on-site secret"
# A loopback address other than 127.0.0.1: treated as "beyond loopback" by name, yet packets stay local.
HOST = "127.0.0.239"


@pytest.fixture
async def guarded(fleet, tmp_path):
    """An agent whose local API listens on 127.0.0.239 with a password."""
    write_meters(fleet, tmp_path / "meters.json", only=1)
    settings = edge_settings(tmp_path, "127.0.0.220", dead_central_url(), None, upload_pipeline=1)
    async with local_site(settings, password=PASSWORD, host=HOST) as site:
        yield site


async def test_queries_need_a_token_from_login(guarded):
    assert (await guarded.data("{ loginRequired }"))["loginRequired"] is True
    refused = await guarded.gql("{ status { collecting } }")
    assert "not authenticated" in refused["errors"][0]["message"]
    wrong = await guarded.data(
        'mutation { login(password: "guess") { __typename ... on LoginFailed { reason } } }'
    )
    assert wrong["login"] == {"__typename": "LoginFailed", "reason": "wrong password"}
    right = await guarded.data(
        "mutation($p: String!) { login(password: $p) { ... on LoginSuccess { token expiresAt } } }",
        {"p": PASSWORD},
    )
    token = right["login"]["token"]
    allowed = await guarded.gql("{ status { collecting } }", token=token)
    assert allowed["data"]["status"]["collecting"] is True
    forged = await guarded.gql("{ status { collecting } }", token=token[:-2] + "00")
    assert "not authenticated" in forged["errors"][0]["message"]


async def test_websocket_needs_the_token_in_connection_init(guarded):
    query = "subscription { statusChanged { collecting } }"
    with pytest.raises((TransportQueryError, Exception)) as refused:
        await take(ws_client(guarded.url), query, 1, timeout=10)
    assert not isinstance(refused.value, TimeoutError)
    login = await guarded.data('mutation($p: String!) { login(password: $p) { ... on LoginSuccess { token } } }',
                               {"p": PASSWORD})  # fmt: skip
    client = ws_client(guarded.url, {"Authorization": f"Bearer {login['login']['token']}"})
    events = await take(client, query, 1)
    assert events[0]["statusChanged"]["collecting"] is True


async def test_loopback_api_needs_no_login(site):
    assert (await site.data("{ loginRequired }"))["loginRequired"] is False
    failed = await site.data('mutation { login(password: "x") { ... on LoginFailed { reason } } }')
    assert failed["login"]["reason"] == "no login needed"
