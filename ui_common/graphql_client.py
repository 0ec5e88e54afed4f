"""A dashboard's GraphQL API: operations over HTTP, subscriptions over websockets, failures as its errors."""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from gql import Client, gql
from gql.transport.exceptions import TransportError, TransportQueryError
from gql.transport.websockets import WebsocketsTransport

logger = logging.getLogger(__name__)


def ws_url(url: str) -> str:
    """The websocket form of an http(s) URL."""
    return "ws" + url[4:] if url.startswith("http") else url


def error_message(errors: list[dict[str, Any]]) -> str:
    """The messages of GraphQL errors on one line."""
    return "; ".join(str(e.get("message", e)) for e in errors) or "unknown error"


def bearer(token: str) -> dict[str, str]:
    """The Authorization entry for a token; none without one (an empty bearer reads as a bad token)."""
    return {"Authorization": f"Bearer {token}"} if token else {}


@dataclass(frozen=True)
class GraphQLApi:
    """One GraphQL endpoint, and how its failures become the errors of the dashboard that uses it.

    `unreachable(message)` is raised when the endpoint does not answer or fails (refused, timeout, 5xx, lost
    websocket); `refused(message, http_status)` maps a refusal (HTTP 401/403, a body that is not JSON, or
    GraphQL errors, which come with status 200) to the dashboard's own error.
    """

    url: Callable[[], str]  # read at each call: `meterit ui` and the tests set the URL after import
    name: str
    unreachable: Callable[[str], Exception]
    refused: Callable[[str, int], Exception]
    timeout: float = 10.0
    connect_timeout: float = 10.0
    tick_seconds: float = 5.0
    headers: dict[str, str] = field(default_factory=dict)  # sent with every operation (e.g. who is asking)

    async def execute(
        self, query: str, variables: dict[str, Any] | None = None, token: str = ""
    ) -> dict[str, Any]:
        """Run one query or mutation and return its data; raise the dashboard's errors otherwise."""
        url = self.url()
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.post(
                    url,
                    json={"query": query, "variables": variables or {}},
                    headers={**self.headers, **bearer(token)},
                )
        except httpx.HTTPError as err:
            logger.warning("%s unreachable at %s: %s", self.name, url, err)
            raise self.unreachable(f"{self.name} unreachable at {url}") from err
        status = response.status_code
        if status >= 500:
            raise self.unreachable(f"{self.name} failed (HTTP {status})")
        if status in (401, 403):
            raise self.refused(response.text.strip() or f"HTTP {status}", status)
        try:
            body = response.json()
        except ValueError as err:
            raise self.refused(f"HTTP {status}: {response.text.strip()[:200]}", status) from err
        if body.get("errors"):
            raise self.refused(error_message(body["errors"]), status)
        return body.get("data") or {}

    async def subscribe(
        self, query: str, variables: dict[str, Any] | None = None, token: str = ""
    ) -> AsyncIterator[dict[str, Any] | None]:
        """Yield each subscription payload, and None after tick_seconds of silence so callers can stop."""
        queue: asyncio.Queue = asyncio.Queue()
        reader = asyncio.create_task(self._read(queue, query, variables, token))
        try:
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), self.tick_seconds)
                except TimeoutError:
                    yield None
                    continue
                if isinstance(item, Exception):
                    raise item
                yield item
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)

    async def _read(
        self, queue: asyncio.Queue, query: str, variables: dict[str, Any] | None, token: str
    ) -> None:
        """Put each payload on the queue, then the error that ended the subscription."""
        # graphql-transport-ws only: both APIs speak it, and gql would otherwise offer the deprecated one first
        transport = WebsocketsTransport(
            url=ws_url(self.url()),
            init_payload=bearer(token),
            connect_timeout=self.connect_timeout,
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        )
        try:
            async with Client(transport=transport, fetch_schema_from_transport=False) as session:
                await queue.put(None)  # connected (connection_ack seen): callers may say "live" at once
                async for payload in session.subscribe(gql(query), variable_values=variables or {}):
                    await queue.put(payload)
            await queue.put(self.unreachable(f"{self.name} closed the live connection"))
        except TransportQueryError as err:
            await queue.put(self.refused(error_message(err.errors or [{"message": str(err)}]), 200))
        except (TimeoutError, TransportError, OSError) as err:
            await queue.put(self.unreachable(f"live updates unavailable: {err}"))
        except Exception as err:  # noqa: BLE001  (websockets raises many kinds; all mean "reconnect")
            await queue.put(self.unreachable(f"live updates unavailable: {err!r}"))
