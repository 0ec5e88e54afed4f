"""Websockets obey revocation: disabled users, ended sessions and expired tokens close open sockets with 4403."""

import asyncio
import json
import os

import httpx
import jwt
import pytest
import websockets
from sqlalchemy import text

from db.clock import clock
from meterit.cli import main
from tests.api.conftest import TWO_WORKER_SECRET as SECRET
from tests.api.conftest import in_session, login, new_site, new_user

SUBSCRIBE = "subscription { siteStatusChanged { siteId status } }"


async def open_socket(server, token: str, protocol: str = "graphql-transport-ws"):
    """A connected, acknowledged socket with one running subscription."""
    ws = await websockets.connect(server.ws_url, subprotocols=[protocol])
    await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
    assert json.loads(await asyncio.wait_for(ws.recv(), 30))["type"] == "connection_ack"
    start = "subscribe" if protocol == "graphql-transport-ws" else "start"
    await ws.send(json.dumps({"id": "1", "type": start, "payload": {"query": SUBSCRIBE}}))
    return ws


async def close_code(ws) -> tuple[int, str]:
    """Wait (bounded) for the server to close the socket; its code and reason."""
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(ws.recv(), 60)
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def gql(server, query: str, token: str):
    """One GraphQL POST with a token; the JSON answer."""
    async with httpx.AsyncClient(timeout=30) as client:
        answer = await client.post(
            server.url, json={"query": query}, headers={"Authorization": f"Bearer {token}"}
        )
    return answer.json()


async def test_disabling_a_user_closes_its_sockets_on_every_worker(two_workers, central_pg_url):
    email = await new_user(central_pg_url)
    token = await login(two_workers.url, email)
    admin = await login(two_workers.url, await new_user(central_pg_url, "admin"))
    other = await login(two_workers.url, await new_user(central_pg_url))
    # several sockets: with two workers, they land on both
    sockets = [
        await open_socket(two_workers, token, proto) for proto in ["graphql-transport-ws", "graphql-ws"] * 3
    ]
    bystander = await open_socket(two_workers, other)
    user_id = (await gql(two_workers, "{ me { id } }", token))["data"]["me"]["id"]
    answer = await gql(
        two_workers, f'mutation {{ updateUser(id: "{user_id}", isActive: false) {{ isActive }} }}', admin
    )
    assert answer["data"]["updateUser"]["isActive"] is False
    for ws in sockets:
        assert await close_code(ws) == (4403, "session ended")
    # another user's socket stays open and usable
    await bystander.send(json.dumps({"id": "2", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
    await bystander.ping()
    assert bystander.close_code is None
    await bystander.close()


async def test_logout_closes_the_sockets(two_workers, central_pg_url):
    token = await login(two_workers.url, await new_user(central_pg_url))
    ws = await open_socket(two_workers, token)
    assert (await gql(two_workers, "mutation { logout }", token))["data"]["logout"] is True
    assert await close_code(ws) == (4403, "session ended")


async def test_a_subscribe_after_a_silent_revocation_is_refused(two_workers, central_pg_url):
    email = await new_user(central_pg_url)
    ws = await open_socket(two_workers, await login(two_workers.url, email))
    # a revocation no event announced (another tool changed the row): the next subscribe finds it
    await in_session(
        central_pg_url,
        lambda s: s.execute(
            text("UPDATE users SET token_version = token_version + 1 WHERE email = :e"), {"e": email}
        ),
    )
    await ws.send(json.dumps({"id": "2", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
    assert await close_code(ws) == (4403, "session ended")


async def test_a_socket_closes_when_its_token_expires(two_workers, central_pg_url):
    email = await new_user(central_pg_url)
    await login(two_workers.url, email)  # the account works
    user_id = await in_session(
        central_pg_url, lambda s: s.scalar(text("SELECT id FROM users WHERE email = :e"), {"e": email})
    )
    short = jwt.encode(
        {"sub": str(user_id), "role": "viewer", "ver": 0, "exp": int(clock().timestamp()) + 3},
        SECRET,
        "HS256",
    )
    ws = await open_socket(two_workers, short)
    assert await close_code(ws) == (4403, "token expired")


async def test_changing_a_users_sites_closes_its_sockets(two_workers, central_pg_url):
    site_id, _ = await new_site(central_pg_url)
    email = await new_user(central_pg_url)
    token = await login(two_workers.url, email)
    admin = await login(two_workers.url, await new_user(central_pg_url, "admin"))
    user_id = (await gql(two_workers, "{ me { id } }", token))["data"]["me"]["id"]
    sockets = [
        await open_socket(two_workers, token, proto) for proto in ["graphql-transport-ws", "graphql-ws"]
    ]
    grant = f'mutation {{ grantSite(userId: "{user_id}", siteId: "{site_id}", role: "viewer") {{ siteId }} }}'
    assert (await gql(two_workers, grant, admin))["data"]["grantSite"] == [{"siteId": str(site_id)}]
    for ws in sockets:
        assert await close_code(ws) == (4403, "site access changed")
    # the token still works: a new socket is accepted with the new sites
    ws = await open_socket(two_workers, token)
    # the CLI reaches the workers too (a NOTIFY at commit)
    argv = ["user", "revoke", email, str(site_id), "--database-url", central_pg_url]
    assert await asyncio.to_thread(main, argv) == 0
    assert await close_code(ws) == (4403, "site access changed")
    # a password set from the CLI ends the user's sessions on every worker as well
    ws = await open_socket(two_workers, token)
    argv = ["user", "password", email, "--password-env", "CLI_NEW_PASSWORD", "--database-url", central_pg_url]
    os.environ["CLI_NEW_PASSWORD"] = "a password set by the cli"
    try:
        assert await asyncio.to_thread(main, argv) == 0
    finally:
        del os.environ["CLI_NEW_PASSWORD"]
    assert await close_code(ws) == (4403, "session ended")
