"""Key rotation with an overlap: the new key works at once, the old one until a set time or the edge's first
use of the new key; the edge takes a new key from its key file without a restart."""

from datetime import timedelta

import httpx
from gql import gql
from sqlalchemy import text

from db.clock import utcnow
from edge_agent.central import CentralClient
from edge_agent.key_file import KeyWatch
from edge_agent.settings import EdgeSettings
from meterit.cli import main
from tests.api.conftest import in_session, login, new_site, new_user

AUTH = "mutation { authenticateSite { siteId } }"
ROTATE = "mutation($s: ID!) { rotateSiteKey(siteId: $s) { apiKey } }"


def status(central, key: str) -> int:
    """The HTTP status of an edge operation with this key."""
    return httpx.post(central.url, json={"query": AUTH}, headers={"X-API-Key": key}, timeout=30).status_code


def rotate(central, admin: str, site_id: int) -> str:
    """Rotate in GraphQL; the new key."""
    answer = httpx.post(
        central.url,
        json={"query": ROTATE, "variables": {"s": str(site_id)}},
        headers={"Authorization": f"Bearer {admin}"},
        timeout=30,
    )
    return answer.json()["data"]["rotateSiteKey"]["apiKey"]


async def test_the_old_key_works_until_the_edge_uses_the_new_one_from_its_key_file(
    central, central_pg_url, tmp_path
):
    site_id, old = await new_site(central_pg_url)
    admin = await login(central.url, await new_user(central_pg_url, "admin"))
    key_file = tmp_path / "site.key"
    key_file.write_text(old + "\n")
    key_file.chmod(0o600)
    settings = EdgeSettings(_env_file=None, client_api_key_file=str(key_file), client_api_url=central.url)
    watch = KeyWatch(settings)
    assert watch.current() == old

    new = rotate(central, admin, site_id)
    assert status(central, old) == 200  # the edge, still on the old key, goes on: no outage
    assert status(central, old) == 200  # the overlap holds until the new key is used
    key_file.write_text(new + "\n")  # the operator installs the new key; the agent is not restarted
    assert watch.current() == new
    async with CentralClient(central.url, watch.current()) as edge:
        assert (await edge.execute(gql(AUTH)))["authenticateSite"]["siteId"] == str(site_id)
    assert status(central, old) == 401  # the edge's first use of the new key ended the overlap
    assert status(central, new) == 200
    key_file.write_text("two\nlines\n")  # a broken file does not replace a working key
    assert watch.current() == new


async def test_the_old_key_stops_at_the_end_of_the_overlap(central, central_pg_url):
    site_id, old = await new_site(central_pg_url)
    admin = await login(central.url, await new_user(central_pg_url, "admin"))
    rotate(central, admin, site_id)
    assert status(central, old) == 200

    async def expire(session):
        past = utcnow() - timedelta(seconds=1)
        await session.execute(
            text("UPDATE sites SET old_key_until = :t WHERE id = :i"), {"t": past, "i": site_id}
        )

    await in_session(central_pg_url, expire)
    assert status(central, old) == 401


def test_cli_rotation_without_overlap_ends_the_old_key_at_once(central, central_pg_url, capsys):
    import asyncio

    site_id, old = asyncio.run(new_site(central_pg_url))
    argv = ["site", "rotate-key", str(site_id), "--overlap-hours", "0", "--database-url", central_pg_url]
    assert main(argv) == 0
    assert status(central, old) == 401
    argv = ["site", "rotate-key", str(site_id), "--overlap-hours", "2", "--database-url", central_pg_url]
    assert main(argv) == 0
    assert "at most 2 h" in capsys.readouterr().out
