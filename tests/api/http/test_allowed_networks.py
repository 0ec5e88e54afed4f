"""A site's allowed networks over real HTTP: refused and allowed addresses, with and without a trusted proxy."""

import asyncio
import re
import uuid
from datetime import timedelta

import httpx
import pytest
from gql.transport.exceptions import TransportQueryError

from db.central.sites import set_allowed_networks
from db.clock import FixedClock, use_clock, utcnow
from db.wire import UPLOAD_READINGS_DOCUMENT
from tests.api.conftest import execute, http_client, in_session, new_site

HEARTBEAT = (
    "mutation($s: HeartbeatInput!) { heartbeat(status: $s) { siteId } }",
    {"s": {"agentVersion": "t", "queueDepth": 0, "meters": []}},
)
SITE_CONFIG = ("{ siteConfig { siteId } }", None)
AUTHENTICATE = ("mutation { authenticateSite { siteId } }", None)
SET_NETWORKS = """mutation($id: ID!, $n: [String!]!) {
  setSiteAllowedNetworks(siteId: $id, networks: $n) { id allowedNetworks } }"""


async def post(url, key, operation, *, source="127.0.0.1", forwarded=None) -> httpx.Response:
    """POST one operation with a site key from a chosen loopback source address."""
    query, variables = operation
    headers = {"X-API-Key": key}
    if forwarded:
        headers["X-Forwarded-For"] = forwarded
    transport = httpx.AsyncHTTPTransport(local_address=source)
    async with httpx.AsyncClient(transport=transport, timeout=30) as client:
        return await client.post(url, json={"query": query, "variables": variables}, headers=headers)


def upload_operation(count: int, batch_id: str) -> tuple[str, dict]:
    """The edge agent's own upload document (answered by api/ingest/fast.py) with count readings."""
    start = utcnow().replace(microsecond=0) - timedelta(hours=1)
    readings = [
        {
            "meter_external_id": "meter-001",
            "data_point": "total_kwh",
            "timestamp": (start + timedelta(minutes=i)).isoformat(),
            "value": 100.0 + i,
            "unit": "kWh",
            "quality": 0,
        }
        for i in range(count)
    ]
    return UPLOAD_READINGS_DOCUMENT, {"batch": {"batchId": batch_id, "readings": readings}}


async def site_with_networks(url: str, networks: list[str]) -> tuple[int, str]:
    """A new site whose key is accepted only from networks."""
    site_id, key = await new_site(url)
    await in_session(url, lambda s: set_allowed_networks(s, site_id, networks))
    return site_id, key


def refused_count(server, site_id: int) -> float:
    """meterit_site_address_refused_total for a site, from the server's /metrics."""
    text = httpx.get(server.base_url + "/metrics").text
    match = re.search(rf'meterit_site_address_refused_total{{site="{site_id}"}} (\S+)', text)
    return float(match.group(1)) if match else 0.0


async def test_without_trusted_proxy_the_peer_address_decides(central, central_pg_url):
    site_id, key = await site_with_networks(central_pg_url, ["127.0.0.2/32", "2001:db8::/32"])
    for operation in (HEARTBEAT, SITE_CONFIG, AUTHENTICATE):
        allowed = await post(central.url, key, operation, source="127.0.0.2")
        assert allowed.status_code == 200 and "errors" not in allowed.json(), allowed.text
        refused = await post(central.url, key, operation, source="127.0.0.3")
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("text/plain")
        assert "not accepted from 127.0.0.3" in refused.text and "allowed networks" in refused.text
    # Without a trusted proxy the header is the client's own word: ignored.
    spoofed = await post(central.url, key, HEARTBEAT, source="127.0.0.3", forwarded="127.0.0.2")
    assert spoofed.status_code == 403
    assert refused_count(central, site_id) == 4


async def test_a_refused_upload_stores_nothing(central, central_pg_url):
    site_id, key = await site_with_networks(central_pg_url, ["127.0.0.2"])
    operation = upload_operation(20, uuid.uuid4().hex)
    refused = await post(central.url, key, operation, source="127.0.0.6")
    assert refused.status_code == 403 and "127.0.0.6" in refused.text
    stored = await post(central.url, key, operation, source="127.0.0.2")
    assert stored.json()["data"]["uploadReadings"]["new"] == 20  # the refused try wrote nothing
    assert refused_count(central, site_id) == 1


async def test_a_site_without_networks_accepts_any_address(central, central_pg_url):
    _, key = await new_site(central_pg_url)
    response = await post(central.url, key, HEARTBEAT, source="127.0.0.9")
    assert response.status_code == 200 and "errors" not in response.json()


async def test_a_refused_address_is_logged_once(central, central_pg_url):
    _, key = await site_with_networks(central_pg_url, ["127.0.0.2/32"])
    for _ in range(3):
        assert (await post(central.url, key, HEARTBEAT, source="127.0.0.7")).status_code == 403
    log = central.log_path.read_text(errors="replace")
    assert log.count("key used from 127.0.0.7,") == 1


def test_behind_a_trusted_proxy_the_forwarded_address_decides(central_server_factory, central_pg_url):
    server = central_server_factory(
        central_pg_url, env={"TRUSTED_PROXIES": "127.0.0.1/32, ::1"}, args=["--no-migrate"]
    )

    async def run() -> None:
        site_id, key = await site_with_networks(central_pg_url, ["198.51.100.0/24", "2001:db8::/32"])
        for client in ("198.51.100.7", "2001:db8::5", "203.0.113.1, 198.51.100.7"):
            response = await post(server.url, key, HEARTBEAT, forwarded=client)
            assert response.status_code == 200 and "errors" not in response.json(), (client, response.text)
        # The proxy appends the address it saw: a client cannot pass itself off by writing the left entry.
        for client, shown in (("203.0.113.9", "203.0.113.9"), ("198.51.100.7, 203.0.113.9", "203.0.113.9")):
            response = await post(server.url, key, HEARTBEAT, forwarded=client)
            assert response.status_code == 403 and f"not accepted from {shown}:" in response.text
        no_header = await post(server.url, key, HEARTBEAT)
        assert no_header.status_code == 403 and "127.0.0.1" in no_header.text
        # A peer that is not a trusted proxy: its header is ignored.
        untrusted = await post(server.url, key, HEARTBEAT, source="127.0.0.4", forwarded="198.51.100.7")
        assert untrusted.status_code == 403 and "127.0.0.4" in untrusted.text
        assert refused_count(server, site_id) == 4

    asyncio.run(run())


async def test_admin_sets_networks_viewer_may_not(central, central_pg_url, admin_token, viewer_token):
    site_id, key = await new_site(central_pg_url)
    admin = http_client(central.url, token=admin_token)
    result = await execute(admin, SET_NETWORKS, id=str(site_id), n=["127.0.0.2", "2001:db8::/32"])
    assert result["setSiteAllowedNetworks"]["allowedNetworks"] == ["127.0.0.2/32", "2001:db8::/32"]
    assert (await post(central.url, key, HEARTBEAT, source="127.0.0.8")).status_code == 403
    with pytest.raises(TransportQueryError) as caught:
        await execute(admin, SET_NETWORKS, id=str(site_id), n=["198.51.100.7/24"])
    assert "did you mean 198.51.100.0/24" in caught.value.errors[0]["message"]
    with pytest.raises(TransportQueryError) as caught:
        await execute(http_client(central.url, token=viewer_token), SET_NETWORKS, id=str(site_id), n=[])
    assert caught.value.errors[0]["message"] == "forbidden: admin role required"
    site = await execute(admin, "query($id: ID!) { site(id: $id) { allowedNetworks } }", id=str(site_id))
    assert site["site"]["allowedNetworks"] == ["127.0.0.2/32", "2001:db8::/32"]  # unchanged by the refusals
    cleared = await execute(admin, SET_NETWORKS, id=str(site_id), n=[])
    assert cleared["setSiteAllowedNetworks"]["allowedNetworks"] == []
    assert (await post(central.url, key, HEARTBEAT, source="127.0.0.8")).status_code == 200


def test_refusal_log_says_first_once_per_clock_hour():
    from api.http.client_address import RefusalLog

    log = RefusalLog(limit=2)
    with use_clock(FixedClock(utcnow().replace(minute=10))) as fixed:
        assert log.first_this_hour("198.51.100.7") and not log.first_this_hour("198.51.100.7")
        assert log.first_this_hour("198.51.100.8") and not log.first_this_hour("198.51.100.9")  # limit
        fixed.advance(timedelta(minutes=49))
        assert not log.first_this_hour("198.51.100.7")
        fixed.advance(timedelta(minutes=1))
        assert log.first_this_hour("198.51.100.7")


async def test_the_edge_client_reports_the_reason_and_keeps_its_readings(central, central_pg_url):
    from edge_agent.central import CentralClient
    from edge_agent.errors import CentralUnreachable

    _, key = await site_with_networks(central_pg_url, ["198.51.100.0/24"])
    async with CentralClient(central.url, key) as client:
        # CentralUnreachable: the uploader keeps the outbox and retries (an admin may allow the address).
        with pytest.raises(
            CentralUnreachable, match=r"HTTP 403: the key of site \d+ is not accepted from 127\."
        ):
            await client.heartbeat(HEARTBEAT[1]["s"])
