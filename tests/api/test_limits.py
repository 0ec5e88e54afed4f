"""Rate limits (memory and Redis), body size limit, /healthz and /metrics, against real server processes."""

import httpx
import pytest
from gql.transport.exceptions import TransportServerError

from tests.api.conftest import REDIS_URL, execute, http_client, new_site

AUTH = "mutation { authenticateSite { siteId } }"


async def test_rate_limit_answers_429_with_retry_after(central_server_factory, central_pg_url):
    server = central_server_factory(
        central_pg_url, env={"RATE_LIMIT_PER_MINUTE": "3", "MAX_BODY_BYTES": "2000"}
    )
    _, key = await new_site(central_pg_url)
    _, other_key = await new_site(central_pg_url)
    for _ in range(3):
        await execute(http_client(server.url, key=key), AUTH)
    with pytest.raises(TransportServerError) as caught:
        await execute(http_client(server.url, key=key), AUTH)
    assert caught.value.code == 429
    async with httpx.AsyncClient() as client:
        response = await client.post(server.url, json={"query": AUTH}, headers={"X-API-Key": key})
        assert response.status_code == 429
        assert 1 <= int(response.headers["Retry-After"]) <= 60
        assert response.headers["content-type"].startswith("text/plain")
        big = await client.post(
            server.url, json={"query": AUTH, "pad": "x" * 5000}, headers={"X-API-Key": other_key}
        )
        assert big.status_code == 413
    await execute(http_client(server.url, key=other_key), AUTH)  # the limit is per key


async def test_rate_limit_is_shared_through_redis(redis_central, central_server_factory, central_pg_url):
    env = {"RATE_LIMIT_PER_MINUTE": "3", "REDIS_URL": REDIS_URL}
    first = redis_central
    second = central_server_factory(central_pg_url, env=env, args=["--no-migrate"])
    _, key = await new_site(central_pg_url)
    await execute(http_client(first.url, key=key), AUTH)
    await execute(http_client(first.url, key=key), AUTH)
    await execute(http_client(second.url, key=key), AUTH)
    with pytest.raises(TransportServerError) as caught:
        await execute(http_client(second.url, key=key), AUTH)
    assert caught.value.code == 429


async def test_healthz_and_metrics(central, central_pg_url):
    _, key = await new_site(central_pg_url)
    await execute(http_client(central.url, key=key), AUTH)
    async with httpx.AsyncClient() as client:
        health = await client.get(central.base_url + "/healthz")
        metrics = await client.get(central.base_url + "/metrics")
    assert health.json() == {"status": "ok", "database": "ok"}
    for name in (
        "meterit_http_requests_total",
        "meterit_readings_ingested_total",
        "meterit_readings_rejected_total",
        "meterit_sites_online",
        "meterit_pubsub_lag_seconds_bucket",
    ):
        assert name in metrics.text
