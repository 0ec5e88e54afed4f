"""Site-key limits that cannot lock a site out: per site id after authentication, wrong keys per address."""

import httpx

from db.central.secrets import key_prefix
from tests.api.conftest import new_site

AUTH = "mutation { authenticateSite { siteId } }"
ENV = {"RATE_LIMIT_PER_MINUTE": "5", "FAILED_KEY_LIMIT_PER_MINUTE": "20", "TRUSTED_PROXIES": "127.0.0.1/32"}


async def call(client: httpx.AsyncClient, url: str, key: str, address: str) -> httpx.Response:
    """One authenticateSite as a client at address."""
    return await client.post(
        url, json={"query": AUTH}, headers={"X-API-Key": key, "X-Forwarded-For": address}
    )


async def test_junk_keys_with_a_sites_prefix_do_not_lock_it_out(central_server_factory, central_pg_url):
    server = central_server_factory(central_pg_url, env=ENV, args=["--no-migrate"])
    site_b, key_b = await new_site(central_pg_url)
    junk = [key_prefix(key_b) + f"junk{n:04d}" + "x" * 30 for n in range(100)]
    async with httpx.AsyncClient(timeout=30) as client:
        statuses = [(await call(client, server.url, key, "198.51.100.7")).status_code for key in junk]
        assert statuses[:20] == [401] * 20
        assert set(statuses[20:]) == {429}
        refused = await call(client, server.url, junk[0], "198.51.100.7")
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert "too many wrong keys" in refused.text

        # B's real key works, from anywhere, the attacker's address included
        for address in ("198.51.100.8", "198.51.100.7"):
            answer = await call(client, server.url, key_b, address)
            assert answer.status_code == 200, answer.text
            assert answer.json()["data"]["authenticateSite"]["siteId"] == str(site_b)
        # another address's wrong key is its own count: 401, not 429
        assert (await call(client, server.url, junk[1], "198.51.100.9")).status_code == 401

        # the site's own allowance is per site id, after authentication (5 a minute here)
        for _ in range(3):
            assert (await call(client, server.url, key_b, "198.51.100.8")).status_code == 200
        limited = await call(client, server.url, key_b, "198.51.100.8")
        assert limited.status_code == 429 and "rate limit of 5 requests" in limited.text
        metrics = (await client.get(server.base_url + "/metrics")).text
    assert 'meterit_rate_limited_total{reason="failed_key"}' in metrics
    assert 'meterit_rate_limited_total{reason="site"}' in metrics
