"""The edge's own alerts: raised and ended on site with their real start and end, kept over a restart."""

from datetime import UTC, datetime, timedelta

from db.clock import FixedClock, use_clock
from db.edge.outbox import Outbox
from edge_agent.collector.poller import MeterHealth
from edge_agent.edge_alerts import EdgeAlert, EdgeAlerts, Thresholds
from edge_agent.uploader import Uploader

START = datetime(2026, 3, 2, 10, 5, tzinfo=UTC)


class Clock(FixedClock):
    """The process clock, moved by hand in minutes."""

    def __init__(self) -> None:
        super().__init__(START)

    def advance(self, minutes: float) -> datetime:
        """Move forward by minutes and return the new time."""
        return super().advance(timedelta(minutes=minutes))


def kinds(alerts: EdgeAlerts) -> set:
    """The keys of the open alerts."""
    return set(alerts.open)


async def test_three_kinds_open_past_their_thresholds_and_end_with_real_times(edge_engine):
    with use_clock(Clock()) as clock:
        await three_kinds(edge_engine, clock)


async def three_kinds(edge_engine, clock: Clock) -> None:
    """The scenario of the test above, on the hand-moved process clock."""
    uploader = Uploader(Outbox(edge_engine), lambda: None, outage_alert_minutes=15)
    alerts = EdgeAlerts(edge_engine, Thresholds(15, 5, 10_000))
    meter = MeterHealth("meter-001", reachable=True, last_seen_at=START)

    uploader.set_state("unreachable", "connection refused")  # central goes down at START
    alerts.evaluate(uploader.outage, [meter], 10_000)
    assert kinds(alerts) == set()
    clock.advance(1)
    meter.reachable = False  # the meter last answered at START + 0
    alerts.evaluate(uploader.outage, [meter], 10_001)  # queue past its threshold from now on
    assert kinds(alerts) == {("edge_queue", None)}
    clock.advance(5)
    alerts.evaluate(uploader.outage, [meter], 12_000)
    assert kinds(alerts) == {("edge_queue", None), ("meter_unreachable", "meter-001")}
    assert alerts.open["meter_unreachable", "meter-001"].started_at == START
    assert alerts.open["edge_queue", None].started_at == START + timedelta(minutes=1)
    clock.advance(10)
    alerts.evaluate(uploader.outage, [meter], 15_000)
    assert ("central_unreachable", None) in kinds(alerts)
    assert alerts.open["central_unreachable", None].started_at == START

    clock.advance(4)  # central answers at START + 20, the meter too, and the queue drains
    uploader.set_state("ok")
    meter.reachable, meter.last_seen_at = True, clock.moment
    clock.advance(0.5)
    alerts.evaluate(uploader.outage, [meter], 0)
    assert kinds(alerts) == set()
    ended = {a.kind: (a.started_at, a.ended_at) for a in alerts.ended}
    assert ended["central_unreachable"] == (START, START + timedelta(minutes=20))
    assert ended["meter_unreachable"] == (START, START + timedelta(minutes=20.5))
    assert ended["edge_queue"] == (START + timedelta(minutes=1), START + timedelta(minutes=20.5))
    # central hears of the two it could not see; the outage goes in the heartbeat's outage fields
    assert {a.kind for a in alerts.to_report()} == {"meter_unreachable", "edge_queue"}
    await alerts.save()

    restarted = EdgeAlerts(edge_engine, Thresholds())
    await restarted.load()
    assert restarted.ended == alerts.ended
    clock.advance(24 * 60)
    assert restarted.to_report() == []  # repeated for a day, then only shown on site


async def test_a_short_condition_raises_nothing(edge_engine):
    with use_clock(Clock()) as clock:
        await short_condition(edge_engine, clock)


async def short_condition(edge_engine, clock: Clock) -> None:
    """The scenario of the test above."""
    uploader = Uploader(Outbox(edge_engine), lambda: None, outage_alert_minutes=15)
    alerts = EdgeAlerts(edge_engine, Thresholds(15, 5, 10))
    meter = MeterHealth("m", reachable=False, last_seen_at=None)
    uploader.set_state("unreachable")
    for _ in range(4):
        alerts.evaluate(uploader.outage, [meter], 5)
        clock.advance(1)
    uploader.set_state("ok")
    meter.reachable = True
    alerts.evaluate(uploader.outage, [meter], 5)
    assert alerts.open == {} and alerts.ended == []


async def test_an_alert_open_when_the_agent_dies_is_resolved_after_the_restart(edge_engine):
    with use_clock(Clock()) as clock:
        uploader = Uploader(Outbox(edge_engine), lambda: None, outage_alert_minutes=15)
        alerts = EdgeAlerts(edge_engine, Thresholds(15, 5, 10))
        alerts.evaluate(uploader.outage, [], 50)  # the queue is deep: raised and stored
        await alerts.save()
        clock.advance(3)  # SIGKILL here; the restarted agent finds the queue drained

        restarted = EdgeAlerts(edge_engine, Thresholds(15, 5, 10))
        await restarted.load()
        assert set(restarted.open) == {("edge_queue", None)}
        restarted.evaluate(uploader.outage, [], 0)
        assert restarted.open == {}
        assert [(a.kind, a.started_at, a.ended_at) for a in restarted.ended] == [
            ("edge_queue", START, START + timedelta(minutes=3))
        ]


def test_stored_form_round_trips():
    alert = EdgeAlert(
        "meter_unreachable", "m-1", START, START + timedelta(minutes=7), "meter m-1 unreachable"
    )
    assert EdgeAlert.from_json(alert.to_json()) == alert


async def test_messages_tell_times_in_the_sites_zone_once_central_stated_it(edge_engine):
    with use_clock(Clock()) as clock:
        alerts = EdgeAlerts(edge_engine, Thresholds(15, 5, 10))
        meter = MeterHealth("meter-001", reachable=False, last_seen_at=START)
        clock.advance(6)
        alerts.evaluate(Uploader(Outbox(edge_engine), lambda: None).outage, [meter], 0)
        assert (
            alerts.open["meter_unreachable", "meter-001"].message
            == "meter meter-001 unreachable since 10:05 UTC"
        )
        alerts.zone = "Europe/Berlin"  # siteConfig arrived: the open alert's text follows
        alerts.evaluate(Uploader(Outbox(edge_engine), lambda: None).outage, [meter], 0)
        assert (
            alerts.open["meter_unreachable", "meter-001"].message
            == "meter meter-001 unreachable since 11:05 CET"
        )
