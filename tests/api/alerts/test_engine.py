"""The alert engine against real PostgreSQL and a real SMTP server, with a hand-moved clock."""

import asyncio
from datetime import timedelta

from sqlalchemy import select, update

from api.alerts.engine import AlertEngine
from api.alerts.notifier import EmailNotifier
from api.alerts.rules import moment
from db.central import alert_store as store
from db.central.models import Alert, AlertRule, Meter, Site
from db.engine import session_scope
from tests.api.alerts.conftest import alert_settings, smtp_settings
from tests.support.smtp import bodies

MIN = 60


class Published(list):
    """Records what the engine publishes."""

    async def __call__(self, channel: str, payload: dict) -> None:
        self.append((channel, payload))


async def add_site(sessions, name: str, clock, **fields) -> int:
    """A site whose last heartbeat is `clock` now unless given."""
    async with session_scope(sessions) as session:
        values = {"last_heartbeat_at": clock(), "status": "online", "health": {}} | fields
        site = Site(name=name, key_prefix=name[:16], key_hash="x", **values)
        session.add(site)
        await session.flush()
        return site.id


async def set_site(sessions, site_id: int, **fields) -> None:
    """Change columns of a site."""
    async with session_scope(sessions) as session:
        await session.execute(update(Site).where(Site.id == site_id).values(**fields))


async def set_rule(sessions, kind: str, **fields) -> None:
    """Change the global rule of a kind (seeding it first)."""
    async with session_scope(sessions) as session:
        await store.seed_default_rules(session)
        await session.execute(update(AlertRule).where(AlertRule.kind == kind).values(**fields))


async def alerts(sessions) -> list[Alert]:
    """Every alert row, oldest first."""
    async with session_scope(sessions) as session:
        return list(await session.scalars(select(Alert).order_by(Alert.id)))


def make_engine(sessions, notifier, clock, publish=None, counts=lambda: (0.0, 0.0)) -> AlertEngine:
    """An engine on the test's clock, which the fixture installed as the process clock (tests call tick())."""
    return AlertEngine(
        sessions,
        notifier,
        alert_settings(),
        sender="alerts@meterit.test",
        publish=publish,
        error_counts=counts,
    )


async def test_heartbeat_missing_opens_once_and_resolves_with_one_email_each(sessions, notifier, sink, clock):
    published = Published()
    engine = make_engine(sessions, notifier, clock, published)
    heard = clock()
    site_id = await add_site(sessions, "Plant North", clock)
    await engine.tick()
    clock.advance(9 * MIN)
    await engine.tick()
    assert await alerts(sessions) == []

    clock.advance(2 * MIN)  # 11 min without heartbeat > 10
    for _ in range(3):
        await engine.tick()
        clock.advance(MIN)
    rows = await alerts(sessions)
    assert [(a.kind, a.site_id, a.resolved_at) for a in rows] == [("heartbeat_missing", site_id, None)]
    assert rows[0].severity == "critical"
    await notifier.drain()
    [opened] = sink.messages
    # Time-neutral: the text stays true while the dashboard shows it beside a live duration.
    assert opened["Subject"] == (
        f"[MeterIT] ALERT critical: Site Plant North: not heard from since {moment(heard)} (threshold 10 min)"
    )
    assert opened["To"] == "ops@example.test" and opened["From"] == "alerts@meterit.test"
    text, html = bodies(opened)
    assert "Status: OPEN" in text and "Site: Plant North" in text and "Kind: heartbeat_missing" in text
    assert "<th align='left'>Site</th><td>Plant North</td>" in html

    await set_site(sessions, site_id, last_heartbeat_at=clock())
    await engine.tick()
    await engine.tick()
    rows = await alerts(sessions)
    assert rows[0].resolved_at == clock()
    await notifier.drain()
    assert len(sink.messages) == 2
    resolved = sink.messages[1]
    assert resolved["Subject"] == "[MeterIT] RESOLVED: " + rows[0].message
    assert "Status: RESOLVED" in bodies(resolved)[0]
    events = [(c, p["event"], p["alert_id"], p["site_id"]) for c, p in published]
    assert events == [("alerts", "raised", rows[0].id, site_id), ("alerts", "resolved", rows[0].id, site_id)]


async def test_flapping_queue_sends_nothing_until_it_holds_for_the_pending_time(
    sessions, notifier, sink, clock
):
    engine = make_engine(sessions, notifier, clock)
    await set_rule(sessions, "edge_queue", pending_seconds=120, threshold=1000)
    site_id = await add_site(sessions, "Flappy", clock)
    for i in range(12):  # over, under, over, ... every 20 s for 4 minutes
        await set_site(
            sessions, site_id, health={"queue_depth": 5000 if i % 2 == 0 else 10}, last_heartbeat_at=clock()
        )
        await engine.tick()
        clock.advance(20)
    assert await alerts(sessions) == []

    await set_site(sessions, site_id, health={"queue_depth": 5000})
    for _ in range(8):  # holds for 140 s
        await set_site(sessions, site_id, last_heartbeat_at=clock())
        await engine.tick()
        clock.advance(20)
    assert len(await alerts(sessions)) == 1

    for i in range(12):  # flaps again while open: the clear never lasts 120 s, so no resolve
        await set_site(
            sessions, site_id, health={"queue_depth": 10 if i % 2 == 0 else 5000}, last_heartbeat_at=clock()
        )
        await engine.tick()
        clock.advance(20)
    rows = await alerts(sessions)
    assert len(rows) == 1 and rows[0].resolved_at is None
    await notifier.drain()
    assert len(sink.messages) == 1
    assert "edge queue holds 5000 readings (threshold 1000)" in sink.messages[0]["Subject"]


async def test_maintenance_raises_nothing_and_freezes_open_alerts(sessions, notifier, sink, clock):
    engine = make_engine(sessions, notifier, clock)
    quiet = await add_site(sessions, "Quiet", clock, maintenance=True)
    loud = await add_site(sessions, "Loud", clock)
    clock.advance(20 * MIN)
    await engine.tick()
    rows = await alerts(sessions)
    assert [a.site_id for a in rows] == [loud]

    await set_site(sessions, loud, maintenance=True, last_heartbeat_at=clock())
    await engine.tick()
    assert (await alerts(sessions))[0].resolved_at is None  # frozen while in maintenance
    await set_site(sessions, loud, maintenance=False)
    await engine.tick()
    assert (await alerts(sessions))[0].resolved_at == clock()
    await notifier.drain()
    assert len(sink.messages) == 2 and all("Quiet" not in m["Subject"] for m in sink.messages)
    assert quiet != loud


async def test_meter_and_central_unreachable_with_site_override_and_rule_recipients(
    sessions, notifier, sink, clock
):
    engine = make_engine(sessions, notifier, clock)
    seen = clock()
    site_id = await add_site(sessions, "Depot", clock, health={"central_unreachable_seconds": 20 * MIN})
    async with session_scope(sessions) as session:
        await store.seed_default_rules(session)
        await store.add_rule(
            session, "meter_unreachable", site_id, threshold=1, recipients=["depot@example.test"]
        )
        session.add(
            Meter(
                site_id=site_id,
                external_id="meter-007",
                name="m7",
                reachable=False,
                last_error="timeout",
                last_seen_at=clock(),
            )
        )
    clock.advance(90)  # 1.5 min > the site's own 1 min (the global rule says 5)
    await engine.tick()
    rows = await alerts(sessions)
    assert sorted(a.kind for a in rows) == ["central_unreachable", "meter_unreachable"]
    await notifier.drain()
    by_kind = {m["Subject"].split(":")[1].strip(): m for m in sink.messages}
    meter_mail = next(m for m in sink.messages if "meter-007" in m["Subject"])
    assert meter_mail["To"] == "depot@example.test"
    assert f"Meter meter-007 at site Depot unreachable since {moment(seen)}: timeout" in meter_mail["Subject"]
    cut_off = moment(seen - timedelta(minutes=20))
    assert any(f"could not reach central since {cut_off}" in m["Subject"] for m in sink.messages)
    assert len(by_kind) == 2


async def test_hourly_cap_limits_emails_but_not_alert_rows(sessions, sink, clock):
    ticks = [0.0]
    sender = EmailNotifier(
        smtp_settings(sink), alert_settings(email_cap_per_hour=2), monotonic=lambda: ticks[0]
    )
    sender.start()
    engine = make_engine(sessions, sender, clock)
    for n in range(3):
        await add_site(sessions, f"Capped {n}", clock)
    clock.advance(11 * MIN)
    await engine.tick()
    assert len(await alerts(sessions)) == 3
    await sender.drain()
    assert len(sink.messages) == 2 and sender.suppressed == 1
    ticks[0] = 3601.0  # an hour later the budget is back
    async with session_scope(sessions) as session:
        await session.execute(update(Site).values(last_heartbeat_at=clock()))
    await engine.tick()
    await sender.drain()
    assert len(sink.messages) == 4 and sender.suppressed == 2
    await sender.stop()


async def test_smtp_down_is_retried_and_never_blocks_the_engine(sessions, sink, clock):
    sink.stop()
    sender = EmailNotifier(smtp_settings(sink), alert_settings(retry_base_seconds=0.2, send_attempts=20))
    sender.start()
    engine = make_engine(sessions, sender, clock)
    await add_site(sessions, "Lonely", clock)
    clock.advance(11 * MIN)
    await asyncio.wait_for(engine.tick(), 5)  # returns while the mail server is still down
    assert len(await alerts(sessions)) == 1
    await asyncio.sleep(0.5)
    assert sink.messages == []
    sink.start()
    await sink.wait_for(1)
    await sender.drain()
    assert "Lonely" in sink.messages[0]["Subject"] and (sender.sent, sender.failed) == (1, 0)
    await sender.stop()


async def test_api_error_rate_over_a_window(sessions, notifier, sink, clock):
    counts = [0.0, 0.0]
    engine = make_engine(sessions, notifier, clock, counts=lambda: tuple(counts))
    await set_rule(sessions, "api_error_rate", pending_seconds=0)
    await engine.tick()
    counts[:] = [2.0, 100.0]  # 2% errors
    clock.advance(60)
    await engine.tick()
    assert await alerts(sessions) == []
    counts[:] = [30.0, 200.0]  # 30 of 200 overall = 15%
    clock.advance(60)
    await engine.tick()
    [row] = await alerts(sessions)
    assert row.kind == "api_error_rate" and row.site_id is None and "15.0%" in row.message
    counts[:] = [30.0, 2000.0]
    clock.advance(600)  # a window later only the new, clean requests count
    await engine.tick()
    clock.advance(60)
    await engine.tick()
    assert (await alerts(sessions))[0].resolved_at is not None


class Switch:
    """A session factory whose database can be swapped for an unreachable one."""

    def __init__(self, good, bad):
        self.good, self.bad, self.down = good, bad, False

    def __call__(self):
        return (self.bad if self.down else self.good)()


async def test_database_unreachable_emails_then_records_the_alert(sessions, notifier, sink, clock):
    from db.engine import make_engine as db_engine
    from db.engine import make_sessionmaker

    dead = db_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    switch = Switch(sessions, make_sessionmaker(dead))
    published = Published()
    engine = make_engine(switch, notifier, clock, published)
    await engine.tick()  # seeds the rules while the database is up
    switch.down = True
    went_down = clock()
    await engine.tick()
    clock.advance(30)
    await engine.tick()
    await notifier.drain()
    assert sink.messages == []  # 30 s < 1 min
    clock.advance(40)
    await engine.tick()
    await engine.tick()
    await notifier.drain()
    [down] = sink.messages
    assert down["Subject"].startswith(
        f"[MeterIT] ALERT critical: Central database unreachable since {went_down:%H:%M:%S} UTC"
    )
    switch.down = False
    clock.advance(60)
    await engine.tick()
    await notifier.drain()
    assert sink.messages[1]["Subject"].startswith("[MeterIT] RESOLVED: Central database unreachable")
    [row] = await alerts(sessions)
    assert row.kind == "database_unreachable" and row.resolved_at == clock()
    assert [p["event"] for _, p in published] == ["raised", "resolved"]
    await dead.dispose()
