"""Readings events are built and sent only while some worker has a subscriber (announced across workers)."""

import asyncio

import asyncpg

import api.realtime.pubsub as pubsub_module
from api.realtime.pubsub import PG_CHANNEL_PREFIX, PostgresPubSub, PubSub


async def until(condition, timeout: float = 5.0) -> None:
    """Wait until condition() is true."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_in_memory_pubsub_wants_a_channel_while_it_has_subscribers():
    bus = PubSub()
    assert not bus.wants("readings")
    stream = bus.subscribe("readings")
    waiting = asyncio.create_task(anext(stream))
    await until(lambda: bus.wants("readings"))
    await bus.publish("readings", {"site_id": 1})
    assert await waiting == {"site_id": 1}
    await stream.aclose()
    assert not bus.wants("readings")


async def test_workers_learn_of_each_others_subscribers(central_pg_url, monkeypatch):
    monkeypatch.setattr(pubsub_module, "INTEREST_TTL_SECONDS", 1.0)
    dsn = central_pg_url.replace("+asyncpg", "")
    publisher, subscriber = PostgresPubSub(dsn), PostgresPubSub(dsn)
    seen: list[str] = []
    spy = await asyncpg.connect(dsn)  # counts what reaches PostgreSQL on the readings channel
    await spy.add_listener(PG_CHANNEL_PREFIX + "readings", lambda *args: seen.append(args[3]))
    await publisher.start()
    await subscriber.start()
    try:
        assert not publisher.wants("readings")
        stream = subscriber.subscribe("readings")
        received = asyncio.create_task(anext(stream))
        await until(lambda: publisher.wants("readings"))
        await publisher.publish("readings", {"site_id": 7, "meters": []})
        assert (await asyncio.wait_for(received, 5))["site_id"] == 7
        await stream.aclose()
        await until(lambda: not publisher.wants("readings"))  # no announcement within the TTL
        assert len(seen) == 1
    finally:
        await spy.close()
        await publisher.stop()
        await subscriber.stop()


async def test_a_worker_that_starts_later_learns_of_the_subscribers_at_once(central_pg_url, monkeypatch):
    monkeypatch.setattr(pubsub_module, "INTEREST_REFRESH_SECONDS", 3600.0)  # no periodic announcement
    dsn = central_pg_url.replace("+asyncpg", "")
    subscriber, late = PostgresPubSub(dsn), PostgresPubSub(dsn)
    await subscriber.start()
    stream = subscriber.subscribe("readings")
    received = asyncio.create_task(anext(stream))
    try:
        await until(lambda: subscriber.wants("readings"))
        await asyncio.sleep(0.2)  # its announcement went out while the late worker was not listening yet
        await late.start()  # asks the others to announce, and hears the subscriber's answer
        await until(lambda: late.wants("readings"))
        await late.publish("readings", {"site_id": 8, "meters": []})
        assert (await asyncio.wait_for(received, 5))["site_id"] == 8
    finally:
        await stream.aclose()
        await late.stop()
        await subscriber.stop()


async def test_an_upload_builds_no_readings_event_nobody_wants():
    from datetime import UTC, datetime

    from api.realtime.events import publish_readings
    from db.central.ingest.batch import IngestOutcome

    class CountingBus(PubSub):
        def __init__(self) -> None:
            super().__init__()
            self.published: list[dict] = []

        async def publish_many(self, channel: str, payloads: list[dict]) -> None:
            self.published.extend(payloads)

    ts = datetime(2026, 11, 27, 10, tzinfo=UTC)
    outcome = IngestOutcome(batch_id="b", accepted=[(("m1", "total_kwh"), ts, 5.0, "kWh", 0)])
    outcome.points = {("m1", "total_kwh"): (11, 101)}
    bus = CountingBus()
    await publish_readings(bus, 3, outcome)
    assert bus.published == []
    stream = bus.subscribe("readings")
    waiting = asyncio.create_task(anext(stream))
    await until(lambda: bus.wants("readings"))
    await publish_readings(bus, 3, outcome)
    waiting.cancel()
    assert bus.published == [
        {
            "site_id": 3,
            "meters": [
                {
                    "meter_id": 11,
                    "meter_external_id": "m1",
                    "count": 1,
                    "latest": [["total_kwh", ts.isoformat(), 5.0, "kWh"]],
                }
            ],
        }
    ]
