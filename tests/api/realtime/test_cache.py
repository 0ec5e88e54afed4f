"""The per-worker caches (api/realtime/cache.py) across two API workers: a change through one reaches the other at once."""

import asyncio
import re

import httpx

from tests.api.conftest import execute, http_client, new_site

CONFIG = "{ siteConfig { meters { externalId } } }"
SITES = "{ sites { id maintenance } }"
UPSERT = """mutation($s: ID!, $m: MeterInput!) { upsertMeter(siteId: $s, meter: $m) { externalId } }"""
MAINTENANCE = "mutation($s: ID!, $on: Boolean!) { setSiteMaintenance(siteId: $s, maintenance: $on) { id } }"


async def cache_count(base_url: str, cache: str, result: str) -> float:
    """meterit_cache_requests_total of one cache and result, from a worker's /metrics."""
    async with httpx.AsyncClient(timeout=10) as client:
        text = (await client.get(base_url + "/metrics")).text
    pattern = rf'^meterit_cache_requests_total{{cache="{cache}",result="{result}"}} (\S+)$'
    return float(re.search(pattern, text, re.MULTILINE).group(1))


async def eventually(read, check, timeout: float = 10.0):
    """read() until check(value) holds; the last value fails the assertion otherwise."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await read()
        if check(value) or asyncio.get_running_loop().time() > deadline:
            assert check(value), value
            return value
        await asyncio.sleep(0.1)


async def test_a_change_through_one_worker_drops_the_other_workers_cache(
    central, central_server_factory, central_pg_url, admin_token
):
    other = central_server_factory(
        central_pg_url, env={"RATE_LIMIT_PER_MINUTE": "100000"}, args=["--no-migrate"]
    )
    site_id, key = await new_site(central_pg_url)
    edge = http_client(central.url, key=key)

    hits = await cache_count(central.base_url, "meter_config", "hit")
    assert (await execute(edge, CONFIG))["siteConfig"]["meters"] == []
    assert (await execute(edge, CONFIG))["siteConfig"]["meters"] == []
    assert await cache_count(central.base_url, "meter_config", "hit") == hits + 1

    meter = {
        "externalId": "m-cached",
        "name": "Cached",
        "bacnetAddress": "127.0.0.9",
        "dataPoints": [{"name": "total_kwh", "instance": 0}],
    }
    await execute(http_client(other.url, token=admin_token), UPSERT, s=str(site_id), m=meter)
    config = await eventually(lambda: execute(edge, CONFIG), lambda d: d["siteConfig"]["meters"])
    assert config["siteConfig"]["meters"] == [{"externalId": "m-cached"}]  # not 5 minutes later

    viewer = http_client(central.url, token=admin_token)

    async def maintenance() -> bool | None:
        sites = (await execute(viewer, SITES))["sites"]
        return next((s["maintenance"] for s in sites if s["id"] == str(site_id)), None)

    assert await maintenance() is False
    await execute(http_client(other.url, token=admin_token), MAINTENANCE, s=str(site_id), on=True)
    assert await eventually(maintenance, lambda on: on is True)

    created_id, _ = await new_site(central_pg_url)  # outside the API: announced by the database at commit
    await eventually(
        lambda: execute(viewer, SITES), lambda d: str(created_id) in {s["id"] for s in d["sites"]}
    )
