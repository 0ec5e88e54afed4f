"""A failure in the middle of a pipelined upload window loses nothing and stores nothing twice (real HTTP)."""

import asyncio
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest

from db.edge.outbox import Outbox
from db.edge.store import list_sync_log
from edge_agent.central import CentralClient
from edge_agent.uploader import Uploader
from tests.edge_agent.central_support import new_site, stored_keys
from tests.edge_agent.conftest import make_edge_db
from tests.edge_agent.test_uploader import keys, readings

pytestmark = pytest.mark.postgres


async def _read_message(reader: asyncio.StreamReader) -> bytes:
    """One HTTP/1.1 message (headers and a Content-Length body); b"" when the peer closed."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head + (await reader.readexactly(length) if length else b"")


class FaultProxy:
    """HTTP proxy on 127.0.0.1 in front of central; `fault(n)` decides the fate of the n-th POST (1-based):
    "pass", "lose_answer" (central stores it, the edge never hears back) or "refuse" (HTTP 503, not sent)."""

    def __init__(self, upstream: str, fault: Callable[[int], str]):
        parts = urlsplit(upstream)
        self.host, self.port, self.path = parts.hostname, parts.port, parts.path
        self.fault = fault
        self.posts = 0
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        """The proxy's GraphQL URL."""
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}{self.path}"

    async def __aenter__(self) -> "FaultProxy":
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc) -> None:
        self.server.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await _read_message(reader)
                self.posts += 1
                fate = self.fault(self.posts)
                if fate == "refuse":
                    writer.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
                    await writer.drain()
                    continue
                up_reader, up_writer = await asyncio.open_connection(self.host, self.port)
                up_writer.write(request)
                answer = await _read_message(up_reader)
                up_writer.close()
                if fate == "lose_answer":
                    break
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def test_failure_inside_the_window_loses_and_duplicates_nothing(
    edge_central, central_pg_url, sqlite_url
):
    site_id, key = await new_site(central_pg_url)
    engine = await make_edge_db(sqlite_url)
    try:
        outbox = Outbox(engine)
        sent = readings(2000)
        await outbox.add(sent)

        # POST 4 is stored by central but its answer is lost; every POST after it is refused: the
        # batches in flight around the failure settle, the cycle ends unreachable.
        def first_cycle(n: int) -> str:
            return "lose_answer" if n == 4 else ("refuse" if n > 4 else "pass")

        async with FaultProxy(edge_central.url, first_cycle) as proxy:
            uploader = Uploader(
                outbox,
                lambda: CentralClient(proxy.url, key, timeout=10),
                batch_size=100,
                pipeline=4,
                max_retries=1,
                backoff_base=0.01,
                backoff_cap=0.02,
            )
            result = await uploader.sync_once()
        assert result.outcome == "unreachable"
        queued = {
            (q.reading.meter_external_id, q.reading.data_point, q.reading.ts) for q in await outbox.peek(5000)
        }
        stored = await stored_keys(central_pg_url, site_id)
        assert len(stored) == len(set(stored))  # central holds nothing twice
        assert queued | set(stored) == set(keys(sent))  # nothing lost: each reading is stored or still queued
        assert result.acknowledged == len(sent) - len(queued) == 300  # what central answered left the outbox
        assert len(queued & set(stored)) == 100  # the batch whose answer was lost stays queued

        async with FaultProxy(edge_central.url, lambda n: "pass") as proxy:
            again = await uploader.sync_once()
        assert again.outcome == "ok" and await outbox.depth() == 0
        assert sorted(await stored_keys(central_pg_url, site_id)) == keys(sent)
        assert again.new + result.new == len(sent)  # the replayed batch was answered as already stored
        outcomes = [entry.outcome for entry in await list_sync_log(engine, 100)]
        assert "unreachable" in outcomes
    finally:
        await engine.dispose()
