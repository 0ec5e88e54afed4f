"""/metrics sums every API worker (prometheus_client multiprocess mode), and the pool's waiting callers count."""

import asyncio
import re

import httpx

from api import metrics
from db.engine import make_engine
from tests.support.central_server import CentralServer


def sample(text: str, name: str) -> float:
    """The value of an unlabelled sample in exposition text."""
    found = re.search(rf"^{name} ([0-9.e+-]+)$", text, re.MULTILINE)
    assert found, f"{name} not served"
    return float(found.group(1))


async def test_two_workers_are_summed_in_every_scrape(central_pg_url, tmp_path):
    server = CentralServer(
        central_pg_url, workers=2, log_path=tmp_path / "central.log", args=["--no-migrate"]
    )
    await asyncio.to_thread(server.start)
    try:
        requests = 30
        for _ in range(requests):  # a new connection each: the workers share them out
            async with httpx.AsyncClient(timeout=10) as client:
                assert (await client.get(server.base_url + "/healthz")).status_code == 200
        await asyncio.sleep(2 * metrics.REFRESH_SECONDS)  # each worker has written its pool gauges
        for _ in range(6):  # whichever worker answers, it reports both
            async with httpx.AsyncClient(timeout=10) as client:
                text = (await client.get(server.base_url + "/metrics")).text
            # each worker's pool: size 10 + overflow 10 (api settings), so two workers report 40
            assert sample(text, "meterit_db_pool_capacity") == 40
            served = re.findall(
                r'^meterit_http_requests_total\{[^}]*path="/healthz"[^}]*\} ([0-9.]+)$', text, re.M
            )
            assert sum(float(v) for v in served) >= requests
    finally:
        await asyncio.to_thread(server.stop)


async def test_callers_waiting_for_a_connection_are_counted(central_pg_url):
    engine = make_engine(central_pg_url, pool_size=1)  # capacity 2
    metrics.watch(engine, None)
    held = [await engine.connect() for _ in range(2)]
    try:

        async def one_more():
            async with engine.connect():
                pass

        waiters = [asyncio.create_task(one_more()) for _ in range(3)]
        await asyncio.sleep(0.2)
        text = metrics.render()[0].decode()
        assert sample(text, "meterit_db_pool_waiting") == 3
        assert sample(text, "meterit_db_pool_checked_out") == 2
    finally:
        for conn in held:
            await conn.close()
    await asyncio.gather(*waiters)
    assert sample(metrics.render()[0].decode(), "meterit_db_pool_waiting") == 0
    metrics.watch(None, None)
    await engine.dispose()
