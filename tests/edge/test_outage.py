"""The edge's record of central outages: uploader transitions, the alert threshold, and a restart."""

import logging
from datetime import UTC, datetime, timedelta

from db.outbox import Outbox
from edge_agent.outage import CentralOutage, Outage
from edge_agent.uploader import Uploader

START = datetime(2026, 3, 2, 10, 5, tzinfo=UTC)


class Clock:
    """A wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        """Move forward."""
        self.now += timedelta(minutes=minutes)


def uploader_on(engine, clock: Clock, alert_minutes: float = 15) -> Uploader:
    """An uploader whose outage record runs on the test's clock (central is never called)."""
    uploader = Uploader(Outbox(engine), lambda: None, outage_alert_minutes=alert_minutes)
    uploader.outage.clock = clock
    return uploader


async def test_outage_is_followed_across_transitions_alerts_once_and_survives_a_restart(edge_engine, caplog):
    clock = Clock()
    uploader = uploader_on(edge_engine, clock)
    uploader.set_state("ok")
    uploader.set_state("unreachable", "connection refused")
    outage = uploader.outage
    assert outage.since == START and outage.last is None
    clock.advance(10)
    uploader.set_state("unreachable", "still refused")  # retries do not restart the clock
    outage.check()
    assert outage.seconds == 600 and not outage.alerting
    caplog.set_level(logging.INFO, logger="edge_agent.outage")
    clock.advance(6)
    outage.check()
    outage.check()
    assert outage.alerting
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and r.name == "edge_agent.outage"]
    assert (
        len(errors) == 1 and "central unreachable for 16 min since 2026-03-02T10:05:00" in errors[0].message
    )

    clock.advance(7)
    uploader.set_state("rate_limited", "retry after 5 s")  # central answers: the outage is over
    assert outage.since is None and not outage.alerting
    assert outage.last == Outage(START, START + timedelta(minutes=23))
    ended = [r.message for r in caplog.records if r.levelno == logging.INFO and r.name == "edge_agent.outage"]
    assert ended == [
        "central reachable again after 23 min (unreachable from 2026-03-02T10:05:00+00:00 "
        "to 2026-03-02T10:28:00+00:00); queued readings are uploaded"
    ]
    await outage.save()

    restarted = CentralOutage(edge_engine, 15)
    await restarted.load()
    assert restarted.last == outage.last and restarted.since is None


async def test_short_outage_is_kept_without_an_alert_and_a_new_one_replaces_it(edge_engine, caplog):
    clock = Clock()
    uploader = uploader_on(edge_engine, clock)
    caplog.set_level(logging.INFO, logger="edge_agent.outage")
    uploader.set_state("unreachable")
    clock.advance(2)
    uploader.outage.check()
    uploader.set_state("ok")
    await uploader.outage.save()
    assert uploader.outage.last.seconds == 120
    assert [
        r for r in caplog.records if r.name == "edge_agent.outage"
    ] == []  # below the threshold: no alert, no "reachable again after"

    clock.advance(60)
    uploader.set_state("unreachable")
    clock.advance(30)
    uploader.set_state("ok")
    await uploader.outage.save()
    restarted = CentralOutage(edge_engine, 15)
    await restarted.load()
    assert restarted.last == Outage(START + timedelta(minutes=62), START + timedelta(minutes=92))
