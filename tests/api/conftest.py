"""Fixtures of the central API tests: a real server process on the session's PostgreSQL, sites, users, clients."""

import asyncio
import uuid

import pytest
from gql import Client, gql
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

from db.central.grants import set_grant
from db.central.sites import create_site
from db.central.users import create_user, find_user
from db.engine import make_engine, make_sessionmaker, session_scope
from tests.support.central_server import CentralServer, central_server_factory  # noqa: F401

PASSWORD = "correct horse battery"


async def in_session(url: str, work):
    """Run work(session) in one committed transaction on the database at url."""
    engine = make_engine(url, pool_size=1)
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            return await work(session)
    finally:
        await engine.dispose()


async def new_site(url: str, name: str | None = None, timezone: str = "UTC") -> tuple[int, str]:
    """Create a site directly in the database; return (site id, API key)."""
    created = await in_session(
        url, lambda s: create_site(s, name or f"site-{uuid.uuid4().hex[:8]}", timezone)
    )
    return created.site.id, created.api_key


async def new_user(url: str, role: str = "viewer", sites: tuple[int, ...] = ()) -> str:
    """Create a user directly in the database, granted these sites in its role; return its email."""
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.com"
    await in_session(url, lambda s: create_user(s, email, PASSWORD, role))
    for site_id in sites:
        await grant(url, email, site_id, role)
    return email


async def grant(url: str, email: str, site_id: int, role: str = "viewer") -> None:
    """Give the user with this e-mail a role ("viewer" or "manager") at a site, directly in the database."""

    async def work(session):
        user = await find_user(session, email)
        await set_grant(session, user.id, site_id, "manager" if role == "manager" else "viewer")

    await in_session(url, work)


class UserToken(str):
    """A user's token that also knows the user's e-mail (to grant it sites)."""

    email: str

    def __new__(cls, token: str, email: str) -> "UserToken":
        made = super().__new__(cls, token)
        made.email = email
        return made


def http_client(url: str, *, key: str | None = None, token: str | None = None) -> Client:
    """A gql client over HTTP with a site key or a user token."""
    headers = {}
    if key:
        headers["X-API-Key"] = key
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return Client(
        transport=HTTPXAsyncTransport(url=url, headers=headers, timeout=30), fetch_schema_from_transport=False
    )


def ws_client(ws_url: str, token: str, subprotocol: str = "graphql-transport-ws") -> Client:
    """A gql websocket client that sends the token in connection_init."""
    transport = WebsocketsTransport(
        url=ws_url, init_payload={"Authorization": f"Bearer {token}"}, subprotocols=[subprotocol]
    )
    return Client(transport=transport, fetch_schema_from_transport=False)


async def execute(client: Client, query: str, **variables):
    """Run one operation on a fresh connection."""
    async with client as session:
        return await session.execute(gql(query), variable_values=variables or None)


async def login(url: str, email: str) -> str:
    """A token for a user created with new_user."""
    result = await execute(
        http_client(url),
        "mutation($e: String!, $p: String!) { login(email: $e, password: $p) "
        "{ __typename ... on LoginSuccess { token } ... on LoginFailed { reason } } }",
        e=email,
        p=PASSWORD,
    )
    return result["login"]["token"]


REDIS_URL = "redis://127.0.0.1:6379/0"
STRICT_ENV = {
    "RATE_LIMIT_PER_MINUTE": "3",
    "MAX_BODY_BYTES": "2000",
    "MAX_QUERY_DEPTH": "2",
    "MAX_ALIASES": "3",
}


def redis_available() -> bool:
    """True when the local Redis answers."""
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


def _session_server(url: str, factory, name: str, env: dict[str, str]):
    log = factory.mktemp(name) / "central.log"
    return CentralServer(url, env=env, log_path=log, args=["--no-migrate"])


@pytest.fixture(scope="session")
def central(central_pg_url, tmp_path_factory):
    """One central server for the session (rate limit high enough not to interfere)."""
    with _session_server(
        central_pg_url, tmp_path_factory, "central", {"RATE_LIMIT_PER_MINUTE": "100000"}
    ) as server:
        yield server


@pytest.fixture(scope="session")
def strict_central(central_pg_url, tmp_path_factory):
    """A second server on the same database with tiny limits (3 requests/min per key, depth 2, 3 aliases)."""
    with _session_server(central_pg_url, tmp_path_factory, "strict", STRICT_ENV) as server:
        yield server


@pytest.fixture(scope="session")
def redis_central(central_pg_url, tmp_path_factory):
    """A third server on the same database counting its rate limit (3/min per key) in the local Redis."""
    if not redis_available():
        pytest.skip("Redis not running on 127.0.0.1:6379")
    env = {"RATE_LIMIT_PER_MINUTE": "3", "REDIS_URL": REDIS_URL}
    with _session_server(central_pg_url, tmp_path_factory, "redis", env) as server:
        yield server


@pytest.fixture(scope="session")
def admin_token(central, central_pg_url) -> str:
    """A token of an admin user."""
    email = asyncio.run(new_user(central_pg_url, "admin"))
    return asyncio.run(login(central.url, email))


@pytest.fixture(scope="session")
def viewer_token(central, central_pg_url) -> UserToken:
    """A token of a viewer user (of no site until a test grants one: `grant(url, viewer_token.email, id)`)."""
    email = asyncio.run(new_user(central_pg_url, "viewer"))
    return UserToken(asyncio.run(login(central.url, email)), email)


TWO_WORKER_SECRET = "a test secret of at least thirty-two characters"


@pytest.fixture(scope="session")
def two_workers(central_pg_url, tmp_path_factory):
    """A central server with two worker processes (revocations and login counts must reach both).

    It believes X-Forwarded-For from loopback, so tests can play clients at their own addresses; 10 failed
    logins of an account lock it, with no delay before (LOGIN_FREE_FAILURES=9).
    """
    env = {
        "JWT_SECRET": TWO_WORKER_SECRET,
        "RATE_LIMIT_PER_MINUTE": "100000",
        "TRUSTED_PROXIES": "127.0.0.1/32",
        "LOGIN_FREE_FAILURES": "9",
        "LOGIN_LOCK_FAILURES": "10",
    }
    log = tmp_path_factory.mktemp("two-workers") / "central.log"
    with CentralServer(central_pg_url, workers=2, env=env, log_path=log, args=["--no-migrate"]) as server:
        yield server
