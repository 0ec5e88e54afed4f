"""Outbox bookkeeping: retry_count per unacknowledged batch attempt, dead letters marked handled."""

import pytest

from db.edge.outbox import Outbox
from db.edge.store import count_dead_letters, list_dead_letters, mark_dead_letters_handled
from edge_agent.central import CentralClient
from edge_agent.uploader import Uploader
from tests.edge_agent.test_uploader import readings


@pytest.fixture
async def outbox(edge_engine):
    """An opened outbox on a fresh edge database."""
    box = Outbox(edge_engine)
    await box.open()
    return box


def dead_central_url() -> str:
    """A GraphQL URL on loopback where nothing listens."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/graphql"


async def test_each_unacknowledged_attempt_counts_once_for_its_batch(outbox):
    await outbox.add(readings(6))
    url = dead_central_url()
    uploader = Uploader(
        outbox, lambda: CentralClient(url, "k", timeout=2), batch_size=4, max_retries=2, backoff_base=0.01
    )
    result = await uploader.sync_once(forced=True)
    assert result.outcome == "unreachable"
    attempts = 1 + 2  # the first try and max_retries retries, per batch
    assert await outbox.head_retries() == attempts
    rows = await outbox.peek(10)
    counts = await _retry_counts(outbox)
    assert [counts[r.id] for r in rows] == [attempts] * 6  # both batches: 4 + 2 readings


async def _retry_counts(outbox: Outbox) -> dict[int, int]:
    from sqlalchemy import select

    from db.edge.outbox import OUTBOX

    async with outbox.engine.connect() as conn:
        return dict((await conn.execute(select(OUTBOX.c.id, OUTBOX.c.retry_count))).all())


async def test_handled_dead_letters_leave_the_list_and_the_count(outbox):
    await outbox.add(readings(3))
    queued = await outbox.peek(3)
    await outbox.ack([], [(item, "unit mismatch") for item in queued])
    dead = await list_dead_letters(outbox.engine)
    assert await count_dead_letters(outbox.engine) == 3
    assert await mark_dead_letters_handled(outbox.engine, [dead[0].id, dead[1].id]) == 2
    assert await mark_dead_letters_handled(outbox.engine, [dead[0].id]) == 0  # already handled
    assert [d.id for d in await list_dead_letters(outbox.engine)] == [dead[2].id]
    assert await count_dead_letters(outbox.engine) == 1
    assert len(await list_dead_letters(outbox.engine, include_handled=True)) == 3


def test_a_restarted_agent_shows_the_stored_last_reading_until_the_meter_answers():
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from edge_agent.collector.poller import MeterHealth
    from edge_agent.views import meter_statuses

    stored = datetime(2026, 3, 2, 9, 58, tzinfo=UTC)
    row = SimpleNamespace(
        external_id="m-1", name="M", bacnet_device_id=1, bacnet_address="127.0.0.9", enabled=True,
        source="file", config={}, last_reading_at=stored,
    )  # fmt: skip
    assert meter_statuses([row], {})[0].last_seen_at == stored
    fresh = datetime(2026, 3, 2, 10, 5, tzinfo=UTC)
    assert (
        meter_statuses([row], {"m-1": MeterHealth("m-1", True, last_seen_at=fresh)})[0].last_seen_at == fresh
    )
