"""Local login: the password is required on loopback too; every operation but login needs a token."""

import pytest
from gql.transport.exceptions import TransportQueryError

from edge_agent.local_api.auth import LocalAuth
from edge_agent.local_password import ensure_password, new_password
from tests.edge_agent.local_api.site import (
    dead_central_url,
    edge_settings,
    local_site,
    take,
    write_meters,
    ws_client,
)

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
    refused = await guarded.gql("{ status { collecting } }", token="")
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


async def test_loopback_api_needs_the_password_too(site):
    assert (await site.data("{ loginRequired }"))["loginRequired"] is True
    refused = await site.gql("mutation { stopCollection { collecting } }", token="")
    assert "not authenticated" in refused["errors"][0]["message"]
    assert site.agent.collecting.is_set()  # nothing done
    failed = await site.data('mutation { login(password: "x") { ... on LoginFailed { reason } } }')
    assert failed["login"]["reason"] == "wrong password"


def test_a_generated_password_is_stored_hashed_and_a_reset_ends_its_tokens(tmp_path):
    path = tmp_path / "local-api-password"
    first = ensure_password(path)
    assert first and first not in path.read_text() and path.stat().st_mode & 0o077 == 0
    assert ensure_password(path) is None  # printed once: the next start keeps it
    auth = LocalAuth(None, password_file=path)
    token = auth.login(first)[0]
    assert auth.valid(token) and auth.login("wrong") is None
    second = new_password(path)  # `meterit edge local-password` while the agent runs
    assert not auth.valid(token) and auth.login(first) is None and auth.login(second)


def test_cli_makes_a_new_local_password_printed_once(tmp_path, monkeypatch, capsys):
    from meterit.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LOCAL_API_PASSWORD", raising=False)
    monkeypatch.setenv("LOCAL_API_PASSWORD_FILE", str(tmp_path / "pw"))
    assert main(["edge", "local-password"]) == 0
    printed = capsys.readouterr().out
    password = printed.split("): ", 1)[1].split()[0]
    assert LocalAuth(None, password_file=tmp_path / "pw").login(password) is not None
    assert password not in (tmp_path / "pw").read_text()
    monkeypatch.setenv("LOCAL_API_PASSWORD", "set by the operator")
    assert main(["edge", "local-password"]) == 1  # the configured password is changed where it is set
