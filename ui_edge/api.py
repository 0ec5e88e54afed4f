"""GraphQL access to the edge agent's local API: operations over HTTP, subscriptions over websockets."""

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
from gql import Client, gql
from gql.transport.exceptions import TransportError, TransportQueryError
from gql.transport.websockets import WebsocketsTransport

from ui_edge.errors import AgentUnreachable, ApiError, NotAuthenticated, UiEdgeError

logger = logging.getLogger(__name__)

API_URL_ENV = "METERIT_EDGE_API_URL"


def api_url() -> str:
    """METERIT_EDGE_API_URL, else the agent's own LOCAL_API_HOST / LOCAL_API_PORT (default 127.0.0.1:3002)."""
    url = os.environ.get(API_URL_ENV)
    if url:
        return url
    host = os.environ.get("LOCAL_API_HOST", "127.0.0.1")
    host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    return f"http://{host}:{os.environ.get('LOCAL_API_PORT', '3002')}/graphql"


def ws_url() -> str:
    """The websocket form of the local API's URL."""
    url = api_url()
    return "ws" + url[4:] if url.startswith("http") else url


def _raise_for_errors(errors: list[dict[str, Any]]) -> None:
    message = "; ".join(str(e.get("message", e)) for e in errors) or "unknown error"
    if "not authenticated" in message.lower():
        raise NotAuthenticated(message)
    raise ApiError(message)


async def execute(
    query: str, variables: dict[str, Any] | None = None, token: str = "", timeout: float = 30.0
) -> dict[str, Any]:
    """Run one query or mutation and return its data; raise the dashboard's errors otherwise."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            response = await client.post(
                api_url(), json={"query": query, "variables": variables or {}}, headers=headers
            )
    except httpx.HTTPError as err:
        logger.info("local API unreachable at %s: %s", api_url(), err)
        raise AgentUnreachable(f"the edge agent does not answer at {api_url()}") from err
    if response.status_code >= 500:
        raise AgentUnreachable(f"the edge agent failed (HTTP {response.status_code})")
    try:
        body = response.json()
    except ValueError as err:
        raise ApiError(f"HTTP {response.status_code}: {response.text.strip()[:200]}") from err
    if body.get("errors"):
        _raise_for_errors(body["errors"])
    return body.get("data") or {}


async def subscribe(
    query: str, variables: dict[str, Any] | None = None, token: str = "", tick_seconds: float = 3.0
) -> AsyncIterator[dict[str, Any] | None]:
    """Yield each subscription payload, and None after tick_seconds of silence so callers can check to stop."""
    queue: asyncio.Queue = asyncio.Queue()

    async def _reader() -> None:
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        transport = WebsocketsTransport(
            url=ws_url(), init_payload=payload, connect_timeout=5,
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        )  # fmt: skip
        try:
            async with Client(transport=transport, fetch_schema_from_transport=False) as session:
                async for item in session.subscribe(gql(query), variable_values=variables or {}):
                    await queue.put(item)
            await queue.put(AgentUnreachable("the edge agent closed the live connection"))
        except TransportQueryError as err:
            await queue.put(NotAuthenticated(str(err)) if "authenticated" in str(err) else ApiError(str(err)))
        except (TransportError, OSError, TimeoutError) as err:
            await queue.put(AgentUnreachable(f"live updates unavailable: {err}"))
        except Exception as err:  # noqa: BLE001  (websockets raises many kinds; all mean "reconnect")
            await queue.put(AgentUnreachable(f"live updates unavailable: {err!r}"))

    reader = asyncio.create_task(_reader())
    try:
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), tick_seconds)
            except TimeoutError:
                yield None
                continue
            if isinstance(item, UiEdgeError):
                raise item
            yield item
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
