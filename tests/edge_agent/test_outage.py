"""The edge's record of central outages: uploader transitions, the alert threshold, and a restart."""

import logging
from datetime import timedelta

from db.edge.outbox import Outbox
from edge_agent.outage import CentralOutage, Outage
from edge_agent.uploader import Uploader

MIN = 60


def uploader_on(engine, alert_minutes: float = 15) -> Uploader:
    """An uploader whose outage record runs on the process clock (central is never called)."""
    return Uploader(Outbox(engine), lambda: None, outage_alert_minutes=alert_minutes)


async def test_outage_is_followed_across_transitions_alerts_once_and_survives_a_restart(
    edge_engine, caplog, hand_clock
):
    clock, start = hand_clock, hand_clock()
    uploader = uploader_on(edge_engine)
    uploader.set_state("ok")
    uploader.set_state("unreachable", "connection refused")
    outage = uploader.outage
    assert outage.since == start and outage.last is None
    clock.advance(10 * MIN)
    uploader.set_state("unreachable", "still refused")  # retries do not restart the clock
    outage.check()
    assert outage.seconds == 600 and not outage.alerting
    caplog.set_level(logging.INFO, logger="edge_agent.outage")
    clock.advance(6 * MIN)
    outage.check()
    outage.check()
    assert outage.alerting
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and r.name == "edge_agent.outage"]
    assert (
        len(errors) == 1 and f"central unreachable for 16 min since {start.isoformat()}" in errors[0].message
    )

    clock.advance(7 * MIN)
    uploader.set_state("rate_limited", "retry after 5 s")  # central answers: the outage is over
    assert outage.since is None and not outage.alerting
    assert outage.last == Outage(start, start + timedelta(minutes=23))
    ended = [r.message for r in caplog.records if r.levelno == logging.INFO and r.name == "edge_agent.outage"]
    assert ended == [
        f"central reachable again after 23 min (unreachable from {start.isoformat()} "
        f"to {(start + timedelta(minutes=23)).isoformat()}); queued readings are uploaded"
    ]
    await outage.save()

    restarted = CentralOutage(edge_engine, 15)
    await restarted.load()
    assert restarted.last == outage.last and restarted.since is None


async def test_short_outage_is_kept_without_an_alert_and_a_new_one_replaces_it(
    edge_engine, caplog, hand_clock
):
    clock, start = hand_clock, hand_clock()
    uploader = uploader_on(edge_engine)
    caplog.set_level(logging.INFO, logger="edge_agent.outage")
    uploader.set_state("unreachable")
    clock.advance(2 * MIN)
    uploader.outage.check()
    uploader.set_state("ok")
    await uploader.outage.save()
    assert uploader.outage.last.seconds == 120
    assert [
        r for r in caplog.records if r.name == "edge_agent.outage"
    ] == []  # below the threshold: no alert, no "reachable again after"

    clock.advance(60 * MIN)
    uploader.set_state("unreachable")
    clock.advance(30 * MIN)
    uploader.set_state("ok")
    await uploader.outage.save()
    restarted = CentralOutage(edge_engine, 15)
    await restarted.load()
    assert restarted.last == Outage(start + timedelta(minutes=62), start + timedelta(minutes=92))
