"""central_unreachable from the outage an edge reports after it ended: recorded once, emailed once."""

import asyncio
from datetime import timedelta

from api.alerts.rules import moment
from db.central import alert_store as store
from db.central.site_status import record_heartbeat
from db.engine import session_scope
from tests.api.alerts.test_engine import MIN, add_site, alerts, make_engine, set_site
from tests.support.smtp import bodies


async def heartbeat(sessions, site_id: int, started, ended, clock) -> None:
    """Store a heartbeat, received at `clock` now, whose last completed outage ran from `started` to `ended`."""
    health = {
        "last_central_outage_started_at": started.isoformat(),
        "last_central_outage_ended_at": ended.isoformat(),
    }
    async with session_scope(sessions) as session:
        await record_heartbeat(session, site_id, health, 10_000)
    await set_site(sessions, site_id, last_heartbeat_at=clock())


async def test_reported_outage_is_recorded_and_emailed_once_by_any_number_of_workers(
    sessions, notifier, sink, clock
):
    site_id = await add_site(sessions, "Depot", clock)
    started, ended = clock() - timedelta(minutes=30), clock() - timedelta(minutes=10)
    await heartbeat(sessions, site_id, started, ended, clock)
    workers = [make_engine(sessions, notifier, clock) for _ in range(3)]
    await asyncio.gather(*(w.tick() for w in workers))
    clock.advance(MIN)
    await heartbeat(sessions, site_id, started, ended, clock)  # the next heartbeat repeats the same outage
    await asyncio.gather(*(w.tick() for w in workers))
    await make_engine(sessions, notifier, clock).tick()  # a restarted worker remembers nothing

    [row] = await alerts(sessions)
    assert (row.kind, row.site_id, row.opened_at, row.resolved_at) == (
        "central_unreachable", site_id, started, ended
    )  # fmt: skip
    shape = "%H:%M" if started.date() == ended.date() else "%Y-%m-%d %H:%M"  # dates when it crosses midnight
    assert row.message == (
        f"Site Depot: the edge could not reach central from {started:{shape}} to {ended:{shape}} UTC (20 min)"
    )
    await notifier.drain()
    [mail] = sink.messages
    assert mail["Subject"] == "[MeterIT] ALERT warning: " + row.message
    text, _ = bodies(mail)
    assert "Status: ENDED" in text and f"Opened: {started:%Y-%m-%d %H:%M:%S} UTC" in text
    assert f"Resolved: {ended:%Y-%m-%d %H:%M:%S} UTC" in text


async def test_short_overridden_or_maintenance_outages_raise_nothing(sessions, notifier, sink, clock):
    engine = make_engine(sessions, notifier, clock)
    short = await add_site(sessions, "Short", clock)
    strict = await add_site(sessions, "Strict", clock)
    quiet = await add_site(sessions, "Quiet", clock, maintenance=True)
    async with session_scope(sessions) as session:
        await store.seed_default_rules(session)
        await store.add_rule(session, "central_unreachable", strict, threshold=30)
    started = clock() - timedelta(minutes=40)
    await heartbeat(sessions, short, started, started + timedelta(minutes=10), clock)
    await heartbeat(sessions, strict, started, started + timedelta(minutes=20), clock)
    await heartbeat(sessions, quiet, started, started + timedelta(minutes=20), clock)
    await engine.tick()
    await set_site(sessions, quiet, maintenance=False)
    await heartbeat(
        sessions, quiet, started, started + timedelta(minutes=20), clock
    )  # told during maintenance
    await engine.tick()
    assert await alerts(sessions) == []
    await notifier.drain()
    assert sink.messages == []


async def test_live_alert_while_heartbeats_pass_is_not_doubled_by_the_report(sessions, notifier, sink, clock):
    engine = make_engine(sessions, notifier, clock)
    started = clock() - timedelta(minutes=20)
    site_id = await add_site(sessions, "Partial", clock, health={"central_unreachable_seconds": 20 * MIN})
    await engine.tick()  # heartbeats pass, uploads do not: the live condition opens the alert
    clock.advance(5 * MIN)
    await heartbeat(sessions, site_id, started, clock() - timedelta(seconds=30), clock)
    await engine.tick()
    [row] = await alerts(sessions)
    assert row.resolved_at == clock() and f"could not reach central since {moment(started)}" in row.message
    await notifier.drain()
    assert [m["Subject"].split(":")[0] for m in sink.messages] == [
        "[MeterIT] ALERT warning",
        "[MeterIT] RESOLVED",
    ]
