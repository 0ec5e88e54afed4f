"""On-site dashboard in headless Chromium: simulated meters -> `meterit edge` (local API) -> ui_edge; real central."""

import asyncio
import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from db.central.sites import create_site
from db.clock import utcnow
from meterit.commands.common import run_in_session
from meterit.demo_history import queue_history
from tests.edge_agent.local_api.stack import STACK_PASSWORD, EdgeStack
from tests.support.browser import launch_browser, new_page, screenshot
from tests.support.central_server import CentralServer
from tests.support.reflex_app import ReflexApp

pytestmark = [pytest.mark.browser, pytest.mark.postgres]
BERLIN = ZoneInfo("Europe/Berlin")
expect.set_options(timeout=30_000)  # the machine running CI may be busy


@pytest.fixture(scope="module")
def site_key(central_pg_url) -> str:
    """A site in Berlin on the session's central database, collecting every second."""

    async def _create(session):
        created = await create_site(session, "On-site browser test", "Europe/Berlin")
        created.site.collection_interval_seconds = 1.0  # siteConfig's interval overrides the agent's
        return created.api_key

    return run_in_session(central_pg_url, _create)


@pytest.fixture(scope="module")
def central(central_pg_url, tmp_path_factory):
    """The real central server; tests stop and start it."""
    log = tmp_path_factory.mktemp("central_ui_edge") / "central.log"
    with CentralServer(central_pg_url, log_path=log) as server:
        yield server


@pytest.fixture(scope="module")
def stack(central, site_key, tmp_path_factory):
    """Three simulated meters (two configured) and a running agent with its local API."""
    with EdgeStack(tmp_path_factory.mktemp("ui_edge_stack"), central.url, site_key) as running:
        yield running


@pytest.fixture(scope="module")
def dashboard(stack):
    """The on-site dashboard pointed at the stack's local API."""
    with ReflexApp("edge", env={"METERIT_EDGE_API_URL": stack.api_url}) as app:
        yield app


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module."""
    with launch_browser() as running:
        yield running


@pytest.fixture
def page(browser, dashboard, request) -> Page:
    """A fresh tab, logged in with the agent's password; its last state is saved as test-artifacts/ui_edge-end-<test>.png."""
    tab = new_page(browser)
    tab.goto(dashboard.url + "login")
    tab.get_by_test_id("password").fill(STACK_PASSWORD)
    tab.get_by_test_id("login").click()
    tab.wait_for_url(dashboard.url)
    yield tab
    screenshot(tab, f"ui_edge-end-{request.node.name}")
    tab.context.close()


def _card(page: Page, meter: str):
    return page.locator(f"[data-meter='{meter}']")


def _number(text: str) -> int:
    return int(re.sub(r"[^0-9]", "", text) or 0)


def _meter_count(stack: EdgeStack) -> int:
    """How many meters the agent has now (the discovery test adds one; tests do not assume their order)."""
    return len(stack.gql("{ meters { externalId } }")["meters"])


def test_dashboard_shows_live_values_from_simulated_meters(dashboard, stack, page):
    page.goto(dashboard.url)
    cards = page.get_by_test_id("meter-card")
    expect(cards).to_have_count(_meter_count(stack), timeout=60_000)  # first page of a fresh build
    card = _card(page, "meter-001")
    expect(card.get_by_test_id("meter-reachability")).to_have_text("reachable")
    expect(card.get_by_test_id("point-unit").first).not_to_have_text("")
    expect(card.get_by_text("kWh", exact=True)).to_be_visible()  # units as symbols
    expect(card.get_by_test_id("point-quality").first).to_have_text("good")
    value = card.get_by_test_id("point-value").last
    expect(value).not_to_have_text("–")
    first = value.inner_text()
    expect(value).not_to_have_text(first)  # a live value changes without a reload
    expect(card.locator(".recharts-surface")).to_be_visible()
    expect(page.get_by_test_id("collection-state")).to_have_text("running")
    screenshot(page, "ui_edge-dashboard-live")


BERLIN_ABBREVIATION = re.compile(r"\d\d:\d\d:\d\d CES?T")  # a clock time in Berlin, with its zone


def _berlin(text: str) -> datetime:
    """A time the dashboard shows ('2026-12-06 08:15:00 CET') as an aware datetime in Berlin."""
    return datetime.strptime(text.rsplit(" ", 1)[0], "%Y-%m-%d %H:%M:%S").replace(tzinfo=BERLIN)


def test_times_show_in_the_sites_zone_with_its_name(dashboard, page):
    page.goto(dashboard.url)
    expect(page.get_by_test_id("site-zone")).to_have_text(re.compile(r"^Europe/Berlin \(CES?T\)$"))
    poll = page.get_by_test_id("last-poll")
    expect(poll).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d CES?T$"))
    # the wall clock in Berlin, not UTC: within a minute of now (the agent polls every second)
    assert abs((_berlin(poll.inner_text()) - utcnow()).total_seconds()) < 60
    card = _card(page, "meter-001")
    expect(card.get_by_test_id("meter-points")).to_contain_text(BERLIN_ABBREVIATION)
    expect(card.locator(".recharts-label").filter(has_text="time, Europe/Berlin")).to_have_count(1)
    screenshot(page, "ui_edge-berlin-times")
    page.goto(dashboard.url + "sync")
    page.get_by_test_id("sync-now").click()
    expect(page.get_by_test_id("sync-outcome")).to_contain_text("Sync finished", timeout=30_000)
    expect(page.get_by_test_id("sync-log")).to_contain_text(BERLIN_ABBREVIATION)
    screenshot(page, "ui_edge-berlin-sync-log")


def test_a_dead_meter_shows_as_unreachable(dashboard, stack, page):
    page.goto(dashboard.url)
    meters = _meter_count(stack)
    expect(page.get_by_test_id("meter-card")).to_have_count(meters)
    stack.meter("kill", "meter-002")
    try:
        card = _card(page, "meter-002")
        expect(card.get_by_test_id("meter-reachability")).to_have_text("unreachable")
        expect(card.get_by_test_id("meter-dead")).to_be_visible()
        expect(_card(page, "meter-001").get_by_test_id("meter-reachability")).to_have_text("reachable")
        expect(page.get_by_test_id("meters-summary")).to_have_text(
            f"{meters - 1} of {meters} meters reachable"
        )
        screenshot(page, "ui_edge-dead-meter")
    finally:
        stack.meter("revive", "meter-002")
    expect(_card(page, "meter-002").get_by_test_id("meter-reachability")).to_have_text("reachable")


def test_discovery_lists_the_simulated_devices_and_adds_one(dashboard, stack, page):
    meters = _meter_count(stack)
    page.goto(dashboard.url + "meters")
    field = page.get_by_test_id("discovery-range")
    expect(field).to_have_value("127.0.0.231-127.0.0.232")
    field.fill("127.0.0.231-127.0.0.235")
    page.get_by_test_id("discover").click()
    cards = page.get_by_test_id("device-card")
    expect(cards).to_have_count(3, timeout=45_000)
    expect(page.get_by_test_id("device-name")).to_have_text(["Simulated meter 1", "Simulated meter 2",
                                                             "Simulated meter 3"])  # fmt: skip
    expect(cards.nth(2).get_by_test_id("object-name")).to_have_text(["total_kwh", "current_kw"])
    expect(cards.nth(2).get_by_test_id("object-units")).to_have_text(["kWh", "kW"])
    expect(cards.nth(0).get_by_test_id("device-configured")).to_have_text("configured as meter-001")
    screenshot(page, "ui_edge-discovery")
    cards.nth(2).get_by_test_id("add-device").click()
    expect(cards.nth(2).get_by_test_id("device-configured")).to_contain_text("configured as meter-")

    page.get_by_test_id("test-read").click()
    expect(page.get_by_test_id("test-note")).to_contain_text("Read meter-001")
    expect(page.get_by_test_id("test-unit")).to_have_text(["kWh", "kW"])
    page.get_by_role("combobox").nth(1).click()  # meter, then point
    page.get_by_role("option", name="total_kwh").click()
    page.get_by_test_id("test-read").click()
    expect(page.get_by_test_id("test-unit")).to_have_text(["kWh"])
    screenshot(page, "ui_edge-test-read")
    page.goto(dashboard.url)
    expect(page.get_by_test_id("meter-card")).to_have_count(meters + 1)


def test_central_down_then_sync_now_empties_the_queue(dashboard, stack, central, page):
    page.get_by_test_id("nav-sync").click()  # as a user moves between pages: no new page load
    page.wait_for_url(dashboard.url + "sync")
    expect(page.get_by_test_id("central-state")).to_have_text("reachable")
    central.stop()
    try:
        # the stack alerts after 9 s of outage, and the alert banner then takes the place of this one: a page
        # that updates late on a loaded machine may show either
        down = page.get_by_test_id("central-down").or_(page.get_by_test_id("central-outage"))
        expect(down).to_be_visible(timeout=60_000)
        expect(page.get_by_test_id("central-state")).to_have_text("unreachable")
        expect(page.get_by_test_id("central-text")).to_contain_text("unreachable since")
        depth = page.get_by_test_id("queue-depth")
        before = _number(depth.inner_text())
        deadline = time.monotonic() + 30
        while _number(depth.inner_text()) <= before + 2 and time.monotonic() < deadline:
            page.wait_for_timeout(300)
        agent = stack.gql("{ status { queueDepth } }")["status"]["queueDepth"]  # what the page should show
        assert _number(depth.inner_text()) > before + 2, f"the queue did not grow on screen (agent: {agent})"
        page.get_by_test_id("sync-now").click()
        expect(page.get_by_test_id("sync-outcome")).to_contain_text("Sync failed (unreachable)")
        screenshot(page, "ui_edge-central-down")
    finally:
        central.start()
    page.get_by_test_id("stop-collection").click()
    expect(page.get_by_test_id("collection-stopped")).to_be_visible()
    expect(page.get_by_test_id("start-collection")).to_be_visible()
    page.get_by_test_id("sync-now").click()
    expect(page.get_by_test_id("sync-outcome")).to_contain_text("Sync finished", timeout=30_000)
    expect(page.get_by_test_id("queue-depth")).to_have_text("0")
    expect(page.get_by_test_id("sync-queue-depth")).to_have_text("0")
    expect(page.get_by_test_id("central-down")).to_have_count(0)
    screenshot(page, "ui_edge-synced")
    page.get_by_test_id("start-collection").click()
    expect(page.get_by_test_id("collection-state")).to_have_text("running")


def test_long_central_outage_shows_the_alert_banner(dashboard, central, page):
    page.goto(dashboard.url)
    expect(page.get_by_test_id("central-state")).to_have_text("reachable")
    central.stop()
    try:
        expect(page.get_by_test_id("central-down")).to_be_visible()
        outage = page.get_by_test_id("central-outage")  # the stack alerts after 9 s (0.15 min)
        expect(outage).to_contain_text(re.compile(r"Central unreachable for \d+ s since \d\d:\d\d CES?T"))
        expect(outage).to_contain_text("readings are queued and will be uploaded when it is back")
        expect(page.get_by_test_id("central-down")).to_have_count(0)
        screenshot(page, "ui_edge-central-outage")
    finally:
        central.start()
    expect(page.get_by_test_id("central-outage")).to_have_count(0, timeout=30_000)


def test_agent_stopped_is_shown_clearly(dashboard, stack, page):
    page.goto(dashboard.url)
    expect(page.get_by_test_id("meter-card")).to_have_count(_meter_count(stack))
    stack.stop_agent()
    expect(page.get_by_test_id("agent-down")).to_be_visible()
    expect(page.get_by_test_id("collection-state")).to_have_text("agent not running")
    expect(page.get_by_test_id("queue-depth")).to_have_text("unknown")  # not the zero nobody reported
    expect(page.get_by_test_id("last-poll")).to_have_text("unknown")
    expect(page.get_by_test_id("point-stale").first).to_be_visible()  # the last values are not live
    expect(page.get_by_test_id("meter-reachability").first).to_have_text("unknown: agent not running")
    screenshot(page, "ui_edge-agent-stopped")
    stack.start_agent()
    expect(page.get_by_test_id("agent-down")).to_have_count(0, timeout=30_000)
    expect(page.get_by_test_id("collection-state")).to_have_text("running")


def test_simulated_history_is_marked_on_the_charts(dashboard, stack, page):
    # the demo's way: simulated readings queued in the stopped agent's outbox (and its last day), span recorded
    stack.stop_agent()
    try:
        end = utcnow() - timedelta(minutes=30)
        work = queue_history(
            stack.agent_env()["DATABASE_URL"], ["meter-001", "meter-002"], end, 1000.0, days=1
        )
        with ThreadPoolExecutor(1) as pool:  # playwright's sync API holds this thread's event loop
            pool.submit(asyncio.run, work).result()
    finally:
        stack.start_agent()
    page.goto(dashboard.url)
    note = page.get_by_test_id("simulated-note")
    expect(note).to_contain_text("Simulated history (demo data, not measured) from")
    expect(note).to_contain_text(re.compile(r"\d\d:\d\d CES?T"))
    band = _card(page, "meter-001").locator(".recharts-reference-area")
    expect(band).to_have_count(1)
    expect(_card(page, "meter-001").locator(".recharts-label").filter(has_text="simulated")).to_have_count(1)
    screenshot(page, "ui_edge-simulated-history")


def test_meters_page_shows_the_inventory_and_edits_a_meters_interval(dashboard, page):
    page.goto(dashboard.url + "meters")
    version = page.get_by_test_id("inventory-version")
    expect(version).to_have_text(re.compile(r"^version \d+$"))  # central's version, after first contact
    expect(page.get_by_test_id("history-origin").last).to_have_text("file")  # meters.json, proposed first
    expect(page.get_by_test_id("history-row").first).to_contain_text(BERLIN_ABBREVIATION)
    screenshot(page, "ui_edge-inventory")

    page.get_by_role("combobox").filter(has_text="new meter").click()  # the form's meter picker
    page.get_by_role("option", name="meter-001").click()
    expect(page.get_by_test_id("meter-address")).not_to_have_value("")
    interval = page.get_by_test_id("meter-interval")
    interval.fill("2")
    page.get_by_test_id("save-meter").click()
    expect(page.get_by_test_id("meter-form-error")).to_contain_text("interval")  # below the 5 s floor
    interval.fill("30")
    page.get_by_test_id("save-meter").click()
    expect(page.get_by_test_id("meter-form-note")).to_contain_text("Saved meter-001")
    expect(page.get_by_test_id("meter-form-error")).to_have_count(0)
    deadline = time.monotonic() + 60  # central accepts it at the agent's next exchange
    while True:
        page.reload()
        try:
            expect(page.get_by_test_id("history-origin").first).to_have_text("edge_dashboard", timeout=3_000)
            break
        except AssertionError:
            if time.monotonic() > deadline:
                raise
    expect(version).to_have_text(re.compile(r"^version \d+$"))
    expect(page.get_by_test_id("history-changes").first).to_contain_text("meter-001: interval_seconds")
    screenshot(page, "ui_edge-inventory-edited")


def test_unknown_address_shows_a_404_page_with_navigation(dashboard, page):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(dashboard.url + "no/such/page")
    page.get_by_test_id("not-found").wait_for()
    screenshot(page, "ui_edge-404-phone")
    page.get_by_test_id("nav-meters").click()
    page.wait_for_url("**/meters")


def test_a_meter_added_while_the_dashboard_is_open_gets_its_card(dashboard, stack, page):
    # The dashboard re-reads the meters every few seconds; a new meter's card must render before its chart
    # is loaded (it once read the missing chart's length and the whole page failed to render).
    expect(page.get_by_test_id("meter-card").first).to_be_visible()
    cards = page.get_by_test_id("meter-card").count()
    stack.gql(
        'mutation { saveMeterConfig(meter: {id: "meter-004", name: "Added while open", bacnetIp: "127.0.0.234",'
        ' dataPoints: [{name: "total_kwh", instance: 0}]}) { externalId } }'
    )
    expect(page.get_by_test_id("meter-card")).to_have_count(cards + 1, timeout=30_000)
    expect(page.locator("[data-meter='meter-004']")).to_contain_text("Added while open")
    expect(page.get_by_text("An error occurred while rendering this page.")).to_have_count(0)


def test_status_keeps_following_through_navigation(dashboard, page):
    """Moving between pages many times leaves the status strip live (each page load takes the watch over)."""
    poll = page.get_by_test_id("last-poll")
    for _ in range(6):
        for nav, path in (("nav-sync", "sync"), ("nav-meters", "meters"), ("nav-dashboard", "")):
            page.get_by_test_id(nav).click()
            page.wait_for_url(dashboard.url + path)
        shown = poll.inner_text()
        expect(poll).not_to_have_text(shown, timeout=15_000)
