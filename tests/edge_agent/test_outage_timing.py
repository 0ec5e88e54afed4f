"""An outage starts when the unanswered request was sent, and the sync log never ends a cycle before it began."""

import asyncio
from datetime import timedelta

from db.clock import FixedClock, clock, use_clock
from db.edge.outbox import Outbox, Reading
from db.edge.store import list_sync_log
from edge_agent.central import CentralClient
from edge_agent.outage import CentralOutage
from edge_agent.uploader import Uploader
from tests.edge_agent.conftest import make_edge_db

HUNG = timedelta(seconds=10)  # how long central keeps the request before the edge gives up


async def hanging_central(fixed: FixedClock):
    """A loopback server that takes the request and never answers; the test's clock moves on meanwhile."""

    async def handle(reader, writer):
        await reader.read(1024)
        fixed.advance(HUNG)  # the request hangs this long (the edge's timeout)
        try:
            await asyncio.sleep(5)
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/graphql"


async def test_a_hanging_request_dates_the_outage_from_when_it_was_sent(sqlite_url):
    engine = await make_edge_db(sqlite_url)
    outbox = Outbox(engine)
    await outbox.open()
    with use_clock(FixedClock(clock().now().replace(microsecond=0))) as fixed:
        sent_at = fixed.now()
        await outbox.add([Reading("meter-001", "total_kwh", sent_at - timedelta(minutes=1), 1.0, "kWh", 0)])
        server, url = await hanging_central(fixed)
        try:
            uploader = Uploader(outbox, lambda: CentralClient(url, "key", timeout=0.3), max_retries=0)
            result = await uploader.sync_once()
        finally:
            server.close()
        assert result.outcome == "unreachable"
        assert uploader.outage.since == sent_at  # not sent_at + HUNG: no timeout lost from the outage
        assert uploader.unreachable_seconds >= HUNG.total_seconds()
        [entry] = await list_sync_log(engine)
        assert not entry.success and entry.started_at == sent_at
        assert entry.finished_at == sent_at + HUNG and entry.finished_at >= entry.started_at
    await engine.dispose()


def test_begin_takes_the_moment_the_failed_attempt_was_sent():
    with use_clock(FixedClock(clock().now())) as fixed:
        outage = CentralOutage(engine=None, alert_minutes=15)
        sent = fixed.now()
        fixed.advance(timedelta(seconds=30))
        outage.begin(sent)
        fixed.advance(timedelta(minutes=20))
        outage.end()
        assert outage.last.seconds == 20 * 60 + 30
        outage.begin(fixed.now() + timedelta(seconds=5))  # never in the future
        assert outage.since == fixed.now()


async def test_a_hanging_heartbeat_dates_the_outage_from_when_it_was_sent(tmp_path):
    from edge_agent import loops
    from edge_agent.service import EdgeAgent
    from tests.edge_agent.test_service import settings_for

    with use_clock(FixedClock(clock().now().replace(microsecond=0))) as fixed:
        server, url = await hanging_central(fixed)
        settings = settings_for(
            tmp_path, url, key="mk_unused", http_timeout_seconds=0.3, heartbeat_interval_seconds=60
        )
        agent = EdgeAgent(settings, collect=False, upload=False)
        await agent.start()
        try:
            agent.uploader.set_state("ok")
            sent_at = fixed.now()
            beat = asyncio.create_task(loops.heartbeat_loop(agent))
            for _ in range(100):  # bounded: the request times out after 0.3 s
                if agent.uploader.state == "unreachable":
                    break
                await asyncio.sleep(0.05)
            beat.cancel()
            assert agent.uploader.state == "unreachable"
            assert agent.uploader.outage.since == sent_at  # not sent_at + HUNG
        finally:
            await agent.stop()
            server.close()
