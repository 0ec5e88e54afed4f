"""Alerting in the central dashboard, in headless Chromium against the real API on PostgreSQL: rules with
preview, the alerts panel, 'will alert at' hints, maintenance windows, the demo's e-mails, the 404 page.
Desktop and phone (390 px) widths; screenshots go to test-artifacts/."""

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from api.alerts.messages import OPENED, alert_email
from db.central.alert_store import add_rule, seed_default_rules
from db.central.grants import set_grant
from db.central.models import Alert, Meter, Site
from db.central.sites import create_site
from db.central.users import create_user
from db.clock import utcnow
from meterit.commands.common import run_in_session
from tests.support.browser import ARTIFACTS, launch_browser, new_page, screenshot
from tests.support.central_server import CentralServer
from tests.support.pg import migrated_central_database
from tests.support.reflex_app import ReflexApp
from ui_common.format import clock_time

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

PASSWORD = "correct horse battery"
ADMIN = "alerts-admin@example.test"
VIEWER = "alerts-viewer@example.test"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def central_db(pg_server):
    """A migrated central database of this module's own."""
    yield from migrated_central_database("meterit_ui_alerting")


@pytest.fixture(scope="module")
def seed(central_db):
    """Users; Plant North (Berlin) with a meter going down and an open alert; Office South silent for 30 min."""
    now = utcnow()

    async def _seed(session):
        await create_user(session, ADMIN, PASSWORD, "admin")
        viewer = await create_user(session, VIEWER, PASSWORD, "viewer")
        plant = (await create_site(session, "Plant North", "Europe/Berlin")).site
        office = (await create_site(session, "Office South", "UTC")).site
        for site in (plant, office):  # the viewer reads both sites
            await set_grant(session, viewer.id, site.id, "viewer")
        plant.status, plant.last_heartbeat_at, plant.last_contact_at = "degraded", now, now
        office.status = "offline"
        office.last_heartbeat_at = office.last_contact_at = now - timedelta(minutes=30)
        session.add(Meter(site_id=plant.id, external_id="m1", name="Main meter", reachable=False,
                          last_seen_at=now - timedelta(minutes=1), last_error="timeout"))  # fmt: skip
        await seed_default_rules(session)
        # The plant's meters may be down for an hour before anyone is told: the hint says when that will be.
        await add_rule(session, "meter_unreachable", plant.id, threshold=60)
        session.add(Alert(site_id=plant.id, kind="heartbeat_missing", severity="critical",
                          message="Site Plant North: not heard from since earlier",
                          opened_at=now - timedelta(seconds=40)))  # fmt: skip
        session.add(Alert(site_id=office.id, kind="edge_queue", severity="warning",
                          message="Site Office South: edge queue holds 20000 readings (threshold 10000)",
                          opened_at=now - timedelta(hours=2), resolved_at=now - timedelta(hours=1)))  # fmt: skip
        return {"plant": plant.id, "office": office.id}

    return run_in_session(central_db, _seed)


@pytest.fixture(scope="module")
def mail_dir(tmp_path_factory):
    """A demo mail folder holding one alert e-mail as the demo's sink stores it."""
    folder = tmp_path_factory.mktemp("demo-mail")
    alert = Alert(id=7, site_id=1, kind="heartbeat_missing", severity="critical", opened_at=utcnow(),
                  message="Site Plant North: not heard from since 10:00 UTC (threshold 10 min)")  # fmt: skip
    msg = alert_email(OPENED, alert, "Plant North", "meterit-demo@localhost", ["operator@demo.local"])
    (folder / "20261206-100000-000000001.eml").write_bytes(msg.as_bytes())
    return folder


@pytest.fixture(scope="module")
def central(central_db, seed, mail_dir):
    """The real central API (engine off: this module tests the pages, tests/api/alerts the engine)."""
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / "central-for-ui_client_alerting.log"
    env = {"ALERT_ENABLED": "false", "ALERT_DEMO_MAIL_DIR": str(mail_dir)}
    with CentralServer(central_db, log_path=log, env=env) as server:
        yield server


@pytest.fixture(scope="module")
def dashboard(central):
    """The central dashboard, started once for the module."""
    with ReflexApp("client", env={"METERIT_API_URL": central.url}) as app:
        yield app


@pytest.fixture(scope="module")
def browser(dashboard):
    """Headless Chromium."""
    with launch_browser() as chromium:
        yield chromium


def in_thread(url: str, work):
    """run_in_session from a thread of its own (playwright's sync API holds this thread's event loop)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run_in_session, url, work).result()


def login(browser, dashboard, email: str, viewport=None):
    """A page signed in as `email`."""
    page = new_page(browser, viewport)
    page.goto(dashboard.url + "login")
    page.get_by_placeholder("Email").fill(email)
    page.get_by_placeholder("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(dashboard.url)
    return page


def choose(page, testid: str, option: str) -> None:
    """Pick an option of a Radix select."""
    page.get_by_test_id(testid).get_by_role("combobox").click()
    page.get_by_role("option", name=option, exact=True).click()


def rule_row(page, kind: str, scope: str = "global"):
    """The row of one rule."""
    return page.locator(f'[data-testid="rule-row"][data-kind="{kind}"][data-scope="{scope}"]')


def test_admin_edits_previews_creates_and_deletes_rules(browser, dashboard, seed):
    page = login(browser, dashboard, ADMIN)
    page.get_by_role("link", name="Alert rules").click()
    page.wait_for_url("**/alert-rules")
    heartbeat = rule_row(page, "heartbeat_missing")
    expect(heartbeat.get_by_test_id("rule-fires")).to_contain_text("Office South")
    expect(page.get_by_test_id("rule-row").filter(has_text="Plant North")).to_have_count(
        1
    )  # the seeded override
    screenshot(page, "ui_client-alert-rules")

    heartbeat.get_by_test_id("rule-edit").click()
    page.get_by_test_id("edit-threshold").fill("120")
    page.get_by_test_id("rule-preview").click()
    preview = page.get_by_test_id("preview-row").filter(has_text="Office South")
    expect(preview).to_contain_text("building up")
    # A time on another day (an alert due after midnight) is shown with its date.
    expect(preview).to_contain_text(re.compile(r"will alert at (\d{4}-\d\d-\d\d )?\d\d:\d\d UTC \(in 1 h\)"))
    screenshot(page, "ui_client-alert-rules-preview")
    page.get_by_test_id("edit-threshold").fill("ten")
    page.get_by_test_id("rule-save").click()
    expect(page.get_by_test_id("error-banner")).to_contain_text("Threshold must be a number")
    page.get_by_test_id("edit-threshold").fill("20")
    page.get_by_test_id("rule-save").click()
    expect(heartbeat).to_contain_text("20 minutes")
    expect(page.get_by_test_id("rule-editor-title")).to_have_count(0)

    page.get_by_test_id("rule-new").click()
    choose(page, "edit-kind", "edge_queue")
    choose(page, "edit-site", "Office South")
    page.get_by_test_id("edit-threshold").fill("5")
    page.get_by_test_id("edit-recipients").fill("office@example.test")
    page.get_by_test_id("rule-save").click()
    override = rule_row(page, "edge_queue", "site")
    expect(override).to_contain_text("Office South")
    expect(override).to_contain_text("office@example.test")
    screenshot(page, "ui_client-alert-rules-override")
    override.get_by_test_id("rule-delete").click()
    expect(override).to_have_count(0)
    page.context.close()


def test_viewer_reads_rules_on_a_phone_without_edit_buttons(browser, dashboard):
    page = login(browser, dashboard, VIEWER, viewport=PHONE)
    page.goto(dashboard.url + "alert-rules")
    page.get_by_test_id("rules-read-only").wait_for()
    expect(page.locator('[data-testid="rule-card"][data-kind="heartbeat_missing"]')).to_be_visible()
    expect(page.get_by_test_id("rule-edit")).to_have_count(0)
    expect(page.get_by_test_id("rule-new")).to_have_count(0)
    screenshot(page, "ui_client-alert-rules-phone")
    page.context.close()


def test_alerts_panel_filters_acknowledges_with_note_and_resolves(browser, dashboard, seed, central_db):
    async def just_opened(session):
        query = update(Alert).where(Alert.site_id == seed["plant"], Alert.kind == "heartbeat_missing")
        await session.execute(query.values(opened_at=utcnow() - timedelta(seconds=20)))

    in_thread(central_db, just_opened)
    page = login(browser, dashboard, ADMIN)
    page.get_by_role("link", name="Alerts", exact=True).click()
    page.wait_for_url("**/alerts")
    row = page.get_by_test_id("alert-row").filter(has_text="Plant North")
    duration = row.get_by_test_id("alert-duration")
    expect(duration).to_contain_text(re.compile(r"open for \d+ s"))
    first = duration.inner_text()
    expect(duration).not_to_have_text(first, timeout=15_000)  # the duration runs on without a reload
    expect(page.get_by_test_id("alert-row")).to_have_count(1)  # one list: the resolved one is filtered out
    screenshot(page, "ui_client-alerts")

    row.get_by_test_id("ack").click()
    page.get_by_test_id("ack-note").fill("on my way to the plant")
    page.get_by_test_id("ack-confirm").click()
    expect(row.get_by_test_id("alert-ack")).to_contain_text(f"{ADMIN}: on my way to the plant")
    expect(row.get_by_test_id("alert-state")).to_have_text("acknowledged")
    choose(page, "filter-status", "Unacknowledged")
    page.get_by_test_id("alerts-empty").wait_for()
    choose(page, "filter-status", "All")
    expect(page.get_by_test_id("alert-row")).to_have_count(2)
    choose(page, "filter-severity", "warning")
    expect(page.get_by_test_id("alert-row")).to_have_count(1)
    expect(page.get_by_test_id("alert-row")).to_contain_text("lasted 1 h 0 min")
    choose(page, "filter-severity", "All severities")
    choose(page, "filter-kind", "heartbeat_missing")
    expect(page.get_by_test_id("alert-row")).to_have_count(1)
    row.get_by_test_id("resolve").click()
    expect(row.get_by_test_id("alert-state")).to_have_text("resolved")
    expect(row.get_by_test_id("alert-ack")).to_contain_text(f"resolved by {ADMIN}")
    page.context.close()


def test_site_history_link_and_phone_alerts(browser, dashboard, seed):
    page = login(browser, dashboard, VIEWER, viewport=PHONE)
    page.goto(dashboard.url + f"alerts?site={seed['office']}&status=all")
    cards = page.get_by_test_id("alert-card")  # a phone gets cards instead of the wide table
    expect(cards).to_have_count(1)
    expect(cards).to_contain_text("Office South")
    expect(cards).to_contain_text("lasted 1 h 0 min")
    expect(page.get_by_test_id("alerts-table")).not_to_be_visible()
    expect(page.get_by_test_id("filter-site")).to_contain_text("Office South")
    screenshot(page, "ui_client-alerts-phone")
    page.context.close()


def test_site_page_says_when_it_will_alert_and_manages_maintenance_windows(
    browser, dashboard, seed, central_db
):
    async def heartbeat(session):  # the plant's edge is alive; only its meter is down
        now = utcnow()
        await session.execute(
            update(Site).where(Site.id == seed["plant"]).values(last_heartbeat_at=now, last_contact_at=now)
        )

    in_thread(central_db, heartbeat)
    page = login(browser, dashboard, ADMIN)
    hint = page.locator(
        f'[data-testid="site-card"][data-site-id="{seed["plant"]}"] [data-testid="alert-hint"]'
    )
    # The soonest coming alert: the meter's, or the heartbeat's once the monitor marks the silent site offline.
    # Plant North is in Berlin: its hints are in Berlin time, said so (a date once past Berlin's midnight).
    expect(hint).to_contain_text(
        re.compile(r"(m1|heartbeat missing): will alert at (\d{4}-\d\d-\d\d )?\d\d:\d\d CES?T \(in \d+ min\)")
    )
    screenshot(page, "ui_client-overview-alert-hints")
    page.goto(dashboard.url + f"site/{seed['plant']}")

    async def m1_due(session):  # the plant's override: m1 alerts 60 minutes after it was last heard
        seen = await session.scalar(select(Meter.last_seen_at).where(Meter.site_id == seed["plant"]))
        return seen + timedelta(minutes=60)

    due = in_thread(central_db, m1_due)
    expected = clock_time(due.isoformat(), "Europe/Berlin", utcnow())  # '14:05 CET', dated past midnight
    expect(page.get_by_test_id("site-alert-hint").filter(has_text="m1")).to_contain_text(
        f"will alert at {expected} (in "
    )
    screenshot(page, "ui_client-site-alert-hint-berlin")
    page.get_by_test_id("windows-empty").wait_for()

    page.get_by_test_id("window-new").click()
    choose(page, "window-repeat", "Weekly")
    page.get_by_test_id("window-note").fill("filter change")
    page.get_by_test_id("window-save").click()
    window = page.get_by_test_id("window-row")
    expect(window).to_contain_text("Weekly")
    expect(window).to_contain_text("filter change")
    expect(window).to_contain_text(re.compile(r"every \w+day \d\d:\d\d for 2 h 0 min"))

    window.get_by_test_id("window-edit").click()
    now = utcnow()
    page.get_by_test_id("window-starts").fill((now - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_test_id("window-ends").fill((now + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"))
    choose(page, "window-repeat", "Once")
    page.get_by_test_id("window-save").click()
    expect(window).to_have_attribute("data-active", "yes")
    expect(window).to_contain_text("active until")
    expect(page.get_by_test_id("site-silenced")).to_contain_text("raises no alerts until")
    # While the window is active, the site raises nothing: the engine's outlook drops its coming alerts.
    expect(page.get_by_test_id("site-alert-hint")).to_have_count(0, timeout=40_000)
    screenshot(page, "ui_client-site-maintenance")
    page.set_viewport_size(PHONE)
    screenshot(page, "ui_client-site-maintenance-phone")
    window.get_by_test_id("window-delete").click()
    page.get_by_test_id("windows-empty").wait_for()
    page.context.close()


def test_maintenance_window_with_bad_times_is_refused_clearly(browser, dashboard, seed):
    page = login(browser, dashboard, ADMIN)
    page.goto(dashboard.url + f"site/{seed['office']}")
    page.get_by_test_id("window-new").click()
    ends = page.get_by_test_id("window-ends")
    ends.fill(page.get_by_test_id("window-starts").input_value())
    page.get_by_test_id("window-save").click()
    expect(page.get_by_test_id("error-banner")).to_contain_text("endsAt must be after startsAt")
    expect(page.get_by_test_id("window-row")).to_have_count(0)
    page.context.close()


def test_demo_emails_page_lists_what_was_sent(browser, dashboard):
    page = login(browser, dashboard, ADMIN)  # the demo's mails name every site: admins only
    page.get_by_role("link", name="E-mails").click()
    page.wait_for_url("**/emails")
    mail = page.get_by_test_id("email")
    expect(mail).to_have_count(1)
    expect(mail.get_by_test_id("email-subject")).to_have_text(
        "[MeterIT] ALERT critical: Site Plant North: not heard from since 10:00 UTC (threshold 10 min)"
    )
    expect(mail).to_contain_text("operator@demo.local")
    mail.get_by_text("Show the message").click()
    expect(mail).to_contain_text("Status: OPEN")
    screenshot(page, "ui_client-emails")
    page.set_viewport_size(PHONE)
    screenshot(page, "ui_client-emails-phone")
    page.context.close()


def test_unknown_address_shows_a_404_page_with_navigation(browser, dashboard):
    page = login(browser, dashboard, VIEWER, viewport=PHONE)
    page.goto(dashboard.url + "no/such/page")
    page.get_by_test_id("not-found").wait_for()
    screenshot(page, "ui_client-404-phone")
    page.get_by_role("link", name="Alert rules").click()
    page.wait_for_url("**/alert-rules")
    page.get_by_test_id("rule-card").first.wait_for()
    page.context.close()
