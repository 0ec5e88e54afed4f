"""Maintenance windows: when they hold (once, daily, weekly across DST) and the engine keeping quiet in them."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from api.alerts.rules import BUILDING, OPEN, PENDING, Rule, RuleBook, outlook
from db.central.maintenance_windows import DAILY, ONCE, WEEKLY, add_window, next_occurrence, occurrence_at
from db.engine import session_scope
from tests.api.alerts.test_engine import MIN, add_site, alerts, make_engine, set_rule

BERLIN = ZoneInfo("Europe/Berlin")


def window(start: datetime, hours: float, repeat: str):
    """A window row as the functions read it."""
    return SimpleNamespace(starts_at=start, ends_at=start + timedelta(hours=hours), repeat=repeat)


def test_weekly_window_keeps_local_time_across_the_dst_change():
    # Sunday 02:00-04:00 Berlin, first on 2027-03-21 (CET); a week later Berlin is on CEST.
    w = window(datetime(2027, 3, 21, 2, tzinfo=BERLIN).astimezone(UTC), 2, WEEKLY)
    later = datetime(2027, 3, 28, 3, 30, tzinfo=BERLIN).astimezone(UTC)
    held = occurrence_at(w, "Europe/Berlin", later)
    assert held is not None and held.start.astimezone(BERLIN).hour == 3  # 02:00 does not exist that day
    assert occurrence_at(w, "Europe/Berlin", datetime(2027, 4, 4, 1, 59, tzinfo=BERLIN)) is None
    assert occurrence_at(w, "Europe/Berlin", datetime(2027, 4, 4, 2, 0, tzinfo=BERLIN)) is not None
    coming = next_occurrence(w, "Europe/Berlin", datetime(2027, 4, 4, 5, tzinfo=BERLIN))
    assert coming.start == datetime(2027, 4, 11, 2, tzinfo=BERLIN)


def test_once_and_daily_windows_hold_only_inside():
    start = datetime(2027, 1, 5, 22, tzinfo=UTC)
    once, daily = window(start, 1, ONCE), window(start, 1, DAILY)
    assert occurrence_at(once, "UTC", start) is not None
    assert occurrence_at(once, "UTC", start + timedelta(hours=1)) is None
    assert occurrence_at(once, "UTC", start - timedelta(seconds=1)) is None
    assert next_occurrence(once, "UTC", start + timedelta(hours=2)) is None
    assert occurrence_at(daily, "UTC", start + timedelta(days=3, minutes=30)) is not None
    assert occurrence_at(daily, "UTC", start + timedelta(days=3, hours=2)) is None
    assert next_occurrence(daily, "UTC", start + timedelta(days=3, hours=2)).start == start + timedelta(
        days=4
    )


def test_outlook_says_when_a_degraded_meter_will_alert():
    now = datetime(2027, 1, 5, 12, tzinfo=UTC)
    site = SimpleNamespace(id=1, name="Depot", is_active=True, maintenance=False, status="degraded",
                           health={}, last_heartbeat_at=now, last_contact_at=now,
                           collection_interval_seconds=60, timezone="UTC")  # fmt: skip
    meter = SimpleNamespace(id=7, site_id=1, external_id="m7", last_seen_at=now - timedelta(minutes=2),
                            created_at=now - timedelta(days=1), last_error=None)  # fmt: skip
    rule = Rule(3, "meter_unreachable", None, True, 5, "warning", 60)
    [coming] = outlook(RuleBook([rule]), [site], [meter], now, None)
    assert (coming.state, coming.meter_id, coming.due) == (BUILDING, 7, now + timedelta(minutes=4))
    later = now + timedelta(minutes=4)
    [held] = outlook(
        RuleBook([rule]), [site], [meter], later, None, first_seen={("meter_unreachable", 1, 7): now}
    )
    assert (held.state, held.due) == (PENDING, now + timedelta(minutes=1))
    [opened] = outlook(
        RuleBook([rule]), [site], [meter], later, None, open_keys=[("meter_unreachable", 1, 7)]
    )
    assert opened.state == OPEN
    assert outlook(RuleBook([rule]), [site], [meter], now, None, quiet=lambda site_id, at: True) == []


async def test_engine_keeps_quiet_inside_a_window_and_alerts_after_it(sessions, notifier, sink, clock):
    engine = make_engine(sessions, notifier, clock)
    await set_rule(sessions, "heartbeat_missing", threshold=10, pending_seconds=0)
    site_id = await add_site(sessions, "Weekly Works", clock, timezone="Europe/Berlin")
    # Last week at this local time minus 5 minutes, for an hour: weekly windows keep the site's wall-clock time.
    local = clock().astimezone(BERLIN).replace(tzinfo=None) - timedelta(days=7, minutes=5)
    start = local.replace(tzinfo=BERLIN).astimezone(UTC)
    async with session_scope(sessions) as session:
        await add_window(session, site_id, starts_at=start, ends_at=start + timedelta(hours=1), repeat=WEEKLY)
    clock.advance(30 * MIN)  # silent for 30 min, all inside this week's occurrence
    await engine.tick()
    assert await alerts(sessions) == []
    clock.advance(30 * MIN)  # the window ended 5 minutes ago; the site is still silent
    await engine.tick()
    [row] = await alerts(sessions)
    assert row.kind == "heartbeat_missing" and row.site_id == site_id
