"""`meterit bench fleet`: the overview with 1,000 sites and 20,000 meters on PostgreSQL, in headless Chromium.

Seeds a throwaway database, starts the real central API and the central dashboard, then prints:
- first render of the overview (navigation until the first page of site cards and the fleet totals show),
  beside the login page (no data: the dashboard's own cost) and the fleet query alone over HTTP, and the
  full `sites` list the overview used to fetch (every site, for the browser to filter);
- a site's status change (an edge heartbeat) until the page shows it through the live subscription, beside
  the same heartbeat reaching a bare GraphQL websocket subscriber.
"""

import asyncio
import os
import statistics
import time

import httpx
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport

from bench.fleet_data import seed_fleet
from bench.query_data import create_database, drop_database, migrate
from db.central.users import create_user
from meterit.commands.common import run_in_session

EMAIL, PASSWORD = "bench@example.test", "bench password 123"
FLEET_QUERY = """query { fleet(first: 24) { total todayEnergyKwh openAlerts counts { online offline }
  items { openAlerts powerToday site { id name status ageSeconds stale metersTotal metersReachable
  todayEnergyKwh queueDepth } } } }"""
SITES_QUERY = """query { sites { id name status lastHeartbeatAt queueDepth metersTotal metersReachable
  todayEnergyKwh } }"""
HEARTBEAT = "mutation($s: HeartbeatInput!) { heartbeat(status: $s) { status } }"
SUBSCRIPTION = "subscription { siteStatusChanged { siteId status } }"


def register(benches) -> None:
    """Add `bench fleet`."""
    parser = benches.add_parser(
        "fleet", help="overview with 1,000 sites in Chromium: first render, live status"
    )
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--meters-per-site", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of each figure")
    parser.add_argument(
        "--pg",
        default=os.environ.get("METERIT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="admin URL of the PostgreSQL server where a throwaway database is made",
    )
    parser.set_defaults(handler=run)


def p50(samples: list[float]) -> str:
    """Median and spread in ms."""
    ms = sorted(s * 1000 for s in samples)
    return f"p50 {statistics.median(ms):7.1f} ms  (min {ms[0]:.1f}, max {ms[-1]:.1f}, n={len(ms)})"


def heartbeat_status(reachable: bool) -> dict:
    """An edge heartbeat: one meter down makes the site degraded, all up makes it online."""
    return {
        "agentVersion": "bench",
        "queueDepth": 2,
        "meters": [{"externalId": "meter-001", "reachable": reachable}],
    }


def run(args) -> int:
    """The whole benchmark; prints its figures."""
    from tests.support.central_server import (
        CentralServer,
    )  # bench may import test support; nothing imports bench

    name, url = asyncio.run(create_database(args.pg))
    print("load average at start: {:.1f} {:.1f} {:.1f} ({} cores)".format(*os.getloadavg(), os.cpu_count()))
    try:
        migrate(url)
        began = time.perf_counter()
        keys = asyncio.run(seed_fleet(url, args.sites, args.meters_per_site))
        run_in_session(url.replace("postgresql://", "postgresql+asyncpg://", 1),
                       lambda s: create_user(s, EMAIL, PASSWORD, "viewer"))  # fmt: skip
        print(f"seeded {args.sites:,} sites, {args.sites * args.meters_per_site:,} meters, today's rollups "
              f"in {time.perf_counter() - began:.1f} s")  # fmt: skip
        env = {"ALERT_ENABLED": "false", "RATE_LIMIT_PER_MINUTE": "100000"}
        with CentralServer(url.replace("postgresql://", "postgresql+asyncpg://", 1), env=env) as central:
            token = login(central.url)
            asyncio.run(api_figures(central, token, keys["Site 0002"], args.repeat))
            browser_figures(central, keys["Site 0002"], args.repeat)
        print("load average at end: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    finally:
        asyncio.run(drop_database(args.pg, name))
    return 0


def login(url: str) -> str:
    """A token for the benchmark's user."""
    query = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { ... on LoginSuccess { token } } }"
    body = {"query": query, "variables": {"e": EMAIL, "p": PASSWORD}}
    return httpx.post(url, json=body, timeout=30).json()["data"]["login"]["token"]


async def api_figures(central, token: str, key: str, repeat: int) -> None:
    """The queries alone over HTTP, and a heartbeat reaching a bare websocket subscriber."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(timeout=60) as client:
        for label, query in (
            ("fleet query (one page of 24)", FLEET_QUERY),
            ("sites query (all sites)", SITES_QUERY),
        ):
            samples = []
            for i in range(repeat + 1):
                began = time.perf_counter()
                response = await client.post(central.url, json={"query": query}, headers=headers)
                assert not response.json().get("errors"), response.text[:300]
                if i:  # the first warms caches
                    samples.append(time.perf_counter() - began)
            print(f"  baseline, {label:32s} over HTTP: {p50(samples)}")
        transport = WebsocketsTransport(url=central.ws_url, init_payload={"Authorization": f"Bearer {token}"},
                                        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL])  # fmt: skip
        async with Client(transport=transport, fetch_schema_from_transport=False) as session:
            events = session.subscribe(gql(SUBSCRIPTION))
            samples = []
            for i in range(repeat * 2):
                received = asyncio.ensure_future(anext(events))  # subscribes (first time) and waits
                await asyncio.sleep(0.3)
                began = time.perf_counter()
                body = {"query": HEARTBEAT, "variables": {"s": heartbeat_status(i % 2 == 1)}}
                answer = await client.post(central.url, json=body, headers={"X-API-Key": key})
                assert not answer.json().get("errors"), answer.text[:300]
                await asyncio.wait_for(received, 30)
                samples.append(time.perf_counter() - began)
            await events.aclose()
        print(f"  baseline, status change to a bare subscriber      : {p50(samples)}")


def browser_figures(central, key: str, repeat: int) -> None:
    """First render of the overview and a status change reaching it, in headless Chromium."""
    from tests.support.browser import launch_browser, new_page
    from tests.support.reflex_app import ReflexApp

    with ReflexApp("client", env={"METERIT_API_URL": central.url}) as app, launch_browser() as browser:
        page = new_page(browser, timeout_ms=60_000)
        empty = []
        for i in range(repeat + 1):
            began = time.perf_counter()
            page.goto(app.url + "login")
            page.get_by_role("button", name="Sign in").wait_for()
            if i:
                empty.append(time.perf_counter() - began)
        page.get_by_placeholder("Email").fill(EMAIL)
        page.get_by_placeholder("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(app.url)
        renders = []
        for i in range(repeat + 1):
            began = time.perf_counter()
            page.goto(app.url)
            page.wait_for_function(
                "document.querySelectorAll('[data-testid=site-card]').length === 24 &&"
                " (document.querySelector('[data-testid=page-range]')?.textContent || '').includes('of 1,000')"
                " && document.querySelectorAll('[data-testid=sparkline] polyline[points*=\",\"]').length === 24"
            )
            if i:
                renders.append(time.perf_counter() - began)
        print(f"  baseline, login page (no data) first render       : {p50(empty)}")
        print(f"  overview, 1,000 sites, first render of page 1     : {p50(renders)}")
        page.get_by_test_id("live-indicator").filter(has_text="live").wait_for()
        changes = []
        card = '[data-testid="site-card"][data-site-id][data-status="{}"]:has([data-testid=site-name]:text-is("Site 0002"))'
        for i in range(repeat * 2):
            time.sleep(0.3)
            reachable = i % 2 == 1
            began = time.perf_counter()
            httpx.post(central.url, json={"query": HEARTBEAT, "variables": {"s": heartbeat_status(reachable)}},
                       headers={"X-API-Key": key}, timeout=30)  # fmt: skip
            page.wait_for_selector(card.format("online" if reachable else "degraded"))
            changes.append(time.perf_counter() - began)
        print(f"  overview, status change reaching the page         : {p50(changes)}")
        page.context.close()
