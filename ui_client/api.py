"""GraphQL access to the central API: queries and mutations over HTTP, subscriptions over websockets."""

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
from gql import Client, gql
from gql.transport.exceptions import TransportError, TransportQueryError
from gql.transport.websockets import WebsocketsTransport

from ui_client.errors import ApiError, ApiUnreachable, Forbidden, NotAuthenticated

logger = logging.getLogger(__name__)

API_URL_ENV = "METERIT_API_URL"
DEFAULT_API_URL = "http://127.0.0.1:3001/graphql"
_AUTH_WORDS = ("login required", "not authenticated", "unauthenticated", "expired", "invalid token")


def api_url() -> str:
    """The central GraphQL endpoint, from METERIT_API_URL."""
    return os.environ.get(API_URL_ENV, DEFAULT_API_URL)


def ws_url() -> str:
    """The websocket form of the central GraphQL endpoint."""
    url = api_url()
    return "ws" + url[4:] if url.startswith("http") else url


def _raise_for_errors(errors: list[dict[str, Any]]) -> None:
    message = "; ".join(str(e.get("message", e)) for e in errors) or "unknown error"
    lowered = message.lower()
    if any(word in lowered for word in _AUTH_WORDS):
        raise NotAuthenticated(message)
    if "forbidden" in lowered:
        raise Forbidden(message)
    raise ApiError(message)


async def execute(
    query: str, variables: dict[str, Any] | None = None, token: str = "", timeout: float = 10.0
) -> dict[str, Any]:
    """Run one query or mutation and return its data; raise the dashboard's errors otherwise."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            response = await client.post(
                api_url(), json={"query": query, "variables": variables or {}}, headers=headers
            )
    except httpx.HTTPError as err:
        logger.warning("central API unreachable at %s: %s", api_url(), err)
        raise ApiUnreachable(f"central API unreachable at {api_url()}") from err
    if response.status_code == 401:
        raise NotAuthenticated(response.text.strip() or "not authenticated")
    if response.status_code == 403:
        raise Forbidden(response.text.strip() or "forbidden")
    if response.status_code >= 500:
        raise ApiUnreachable(f"central API error (HTTP {response.status_code})")
    try:
        body = response.json()
    except ValueError as err:
        raise ApiError(f"HTTP {response.status_code}: {response.text.strip()[:200]}") from err
    if body.get("errors"):
        _raise_for_errors(body["errors"])
    return body.get("data") or {}


async def subscribe(
    query: str, variables: dict[str, Any] | None = None, token: str = "", tick_seconds: float = 5.0
) -> AsyncIterator[dict[str, Any] | None]:
    """Yield each subscription payload, and None after tick_seconds of silence so callers can stop."""
    queue: asyncio.Queue = asyncio.Queue()

    async def _reader() -> None:
        transport = WebsocketsTransport(
            url=ws_url(), init_payload={"Authorization": f"Bearer {token}"}, connect_timeout=10
        )
        try:
            async with Client(transport=transport, fetch_schema_from_transport=False) as session:
                async for payload in session.subscribe(gql(query), variable_values=variables or {}):
                    await queue.put(payload)
            await queue.put(ApiUnreachable("subscription ended by the server"))
        except TransportQueryError as err:
            await queue.put(ApiError(str(err)))
        except (TimeoutError, TransportError, OSError) as err:
            await queue.put(ApiUnreachable(f"live updates unavailable: {err}"))
        except Exception as err:  # noqa: BLE001  (websockets raises many kinds; all mean "reconnect")
            await queue.put(ApiUnreachable(f"live updates unavailable: {err!r}"))

    reader = asyncio.create_task(_reader())
    try:
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), tick_seconds)
            except TimeoutError:
                yield None
                continue
            if isinstance(item, Exception):
                raise item
            yield item
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
