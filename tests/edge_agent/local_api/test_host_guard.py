"""DNS rebinding: the local API answers only requests whose Host and Origin name it (real HTTP, websockets)."""

import json

import httpx
import pytest
import websockets

from tests.edge_agent.local_api.conftest import CLIENT
from tests.edge_agent.local_api.site import dead_central_url, edge_settings, local_site, write_meters

STOP = {"query": "mutation { stopCollection { collecting } }"}
STATUS = {"query": "{ status { collecting } }"}


@pytest.fixture(scope="module")
async def named_site(fleet, tmp_path_factory):
    """An agent whose local API also answers to edge-01.example.test."""
    tmp = tmp_path_factory.mktemp("host_guard")
    write_meters(fleet, tmp / "meters.json", only=1)
    settings = edge_settings(tmp, CLIENT, dead_central_url(), "site-key-of-a-dead-central")
    async with local_site(settings, allowed_hosts=("edge-01.example.test",)) as running:
        yield running


async def post(site, body: dict, **headers) -> httpx.Response:
    """One POST to the local API with the site's token and extra headers."""
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.post(
            site.url, json=body, headers={"Authorization": f"Bearer {site.token}", **headers}
        )


async def collecting(site) -> bool:
    """Whether the agent collects (asked the honest way)."""
    return (await post(site, STATUS)).json()["data"]["status"]["collecting"]


async def test_a_forged_host_cannot_stop_collection(named_site):
    port = named_site.server.port
    refused = await post(named_site, STOP, Host=f"rebind.attacker.test:{port}")
    assert refused.status_code == 403
    assert "is not a name of this API" in refused.text
    assert await collecting(named_site) is True


async def test_a_foreign_origin_is_refused(named_site):
    refused = await post(named_site, STOP, Origin="http://attacker.test")
    assert refused.status_code == 403 and "Origin" in refused.text
    assert await collecting(named_site) is True


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "edge-01.example.test"])
async def test_its_own_names_and_origins_are_served(named_site, host):
    port = named_site.server.port
    answer = await post(named_site, STATUS, Host=f"{host}:{port}", Origin=f"http://{host}:{port}")
    assert answer.status_code == 200
    assert answer.json()["data"]["status"]["collecting"] is True


async def test_a_websocket_from_a_foreign_page_is_refused(named_site):
    ws_url = named_site.url.replace("http://", "ws://")
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(
            ws_url, subprotocols=["graphql-transport-ws"], origin="http://rebind.attacker.test", proxy=None
        ) as ws:
            await ws.send(json.dumps({"type": "connection_init"}))
            await ws.recv()
    assert refused.value.response.status_code == 403


async def test_a_login_from_a_foreign_page_is_refused(named_site):
    # a page elsewhere cannot even try passwords (or log the browser in) through the technician's browser
    login = {"query": 'mutation { login(password: "local test password") { __typename } }'}
    refused = await post(named_site, login, Authorization="", Origin="http://attacker.test")
    assert refused.status_code == 403 and "Origin" in refused.text
