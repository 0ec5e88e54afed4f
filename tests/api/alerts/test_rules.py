"""Rule administration (validation, site overrides) and the pure rule conditions."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from api.alerts import service
from api.alerts.rules import Rule, RuleBook, evaluate, moment, past_outages
from api.errors import InvalidInput, NotFoundError
from api.services.access import ADMIN
from db.central.models import Site
from db.engine import session_scope

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


async def test_defaults_are_seeded_once_with_the_design_thresholds(sessions):
    async with session_scope(sessions) as session:
        first = await service.list_rules(session, ADMIN)
        again = await service.list_rules(session, ADMIN)
    thresholds = {r.kind: r.threshold for r in first}
    assert thresholds == {
        "api_error_rate": 5,
        "central_unreachable": 15,
        "database_unreachable": 1,
        "edge_queue": 10_000,
        "heartbeat_missing": 10,
        "meter_unreachable": 5,
    }
    assert [r.id for r in again] == [r.id for r in first]


async def test_site_override_and_validation(sessions):
    async with session_scope(sessions) as session:
        site = Site(name="Override", key_prefix="override", key_hash="x")
        session.add(site)
        await session.flush()
        rule = await service.create_rule(
            session, "heartbeat_missing", site.id, scope=ADMIN, threshold=2, recipients=[" a@b.test "]
        )
        assert (rule.site_id, rule.threshold, rule.severity, rule.recipients) == (
            site.id,
            2,
            "critical",
            ["a@b.test"],
        )
        listed = await service.list_rules(session, ADMIN, site.id)
        assert [r.site_id for r in listed if r.kind == "heartbeat_missing"] == [None, site.id]
        with pytest.raises(InvalidInput, match="exists already"):
            await service.create_rule(session, "heartbeat_missing", site.id, scope=ADMIN)
        with pytest.raises(InvalidInput, match="unknown rule kind"):
            await service.create_rule(session, "solar_flare", site.id, scope=ADMIN)
        with pytest.raises(NotFoundError, match="no site with id 987654"):
            await service.create_rule(session, "edge_queue", 987654, scope=ADMIN)
        with pytest.raises(InvalidInput, match="severity"):
            await service.update_rule(session, rule.id, scope=ADMIN, severity="apocalyptic")
        with pytest.raises(InvalidInput, match="not an email address"):
            await service.update_rule(session, rule.id, scope=ADMIN, recipients=["x@y.test\nBcc: z@w.test"])
        with pytest.raises(InvalidInput, match="threshold"):
            await service.update_rule(session, rule.id, scope=ADMIN, threshold=-1)
        with pytest.raises(NotFoundError):
            await service.update_rule(session, 987654, scope=ADMIN, enabled=False)
        changed = await service.update_rule(session, rule.id, scope=ADMIN, enabled=False, pending_seconds=30)
        assert (changed.enabled, changed.pending_seconds, changed.threshold) == (False, 30, 2)


def site(**fields):
    """A site-like object for the pure conditions."""
    values = {"id": 1, "name": "S", "timezone": "UTC", "is_active": True, "maintenance": False, "health": {}}
    return SimpleNamespace(
        **(values | {"last_heartbeat_at": NOW - timedelta(minutes=3), "last_contact_at": None} | fields)
    )


def test_site_rule_overrides_global_and_disabled_rules_are_silent():
    global_rule = Rule(1, "heartbeat_missing", None, True, 10, "critical", 0)
    strict = Rule(2, "heartbeat_missing", 1, True, 2, "warning", 0)
    book = RuleBook([global_rule, strict])
    found = evaluate(book, [site(), site(id=2, name="T")], [], NOW, None)
    assert list(found) == [("heartbeat_missing", 1, None)]
    assert found["heartbeat_missing", 1, None].rule is strict
    off = RuleBook([global_rule, Rule(2, "heartbeat_missing", 1, False, 2, "warning", 0)])
    assert evaluate(off, [site()], [], NOW, None) == {}  # a disabled site rule silences that site
    assert evaluate(book, [site(is_active=False)], [], NOW, None) == {}
    assert evaluate(book, [site(last_heartbeat_at=None)], [], NOW, None) == {}  # never connected: not missing


def test_alert_texts_give_the_sites_own_time_with_its_zone():
    rule = Rule(1, "heartbeat_missing", None, True, 10, "critical", 0)
    heard = NOW - timedelta(minutes=30)
    found = evaluate(
        RuleBook([rule]), [site(timezone="Europe/Berlin", last_heartbeat_at=heard)], [], NOW, None
    )
    local = heard.astimezone(ZoneInfo("Europe/Berlin"))
    assert (
        f"not heard from since {local:%Y-%m-%d %H:%M} {local.tzname()}"
        in found["heartbeat_missing", 1, None].message
    )
    assert moment(datetime(2027, 3, 28, 0, 30, tzinfo=UTC), "Europe/Berlin") == "2027-03-28 01:30 CET"
    assert moment(datetime(2027, 3, 28, 1, 30, tzinfo=UTC), "Europe/Berlin") == "2027-03-28 03:30 CEST"
    assert moment(datetime(2027, 3, 28, 1, 30, tzinfo=UTC)) == "2027-03-28 01:30 UTC"


def test_error_rate_needs_a_rule_and_a_rate():
    rule = Rule(1, "api_error_rate", None, True, 5, "critical", 0)
    assert evaluate(RuleBook([rule]), [], [], NOW, None) == {}
    assert evaluate(RuleBook([rule]), [], [], NOW, 5.0) == {}
    assert list(evaluate(RuleBook([rule]), [], [], NOW, 5.1)) == [("api_error_rate", None, None)]


def test_edge_reported_alerts_become_past_alerts_with_the_edges_times():
    book = RuleBook(
        [
            Rule(1, "meter_unreachable", None, True, 5, "warning", 0),
            Rule(2, "edge_queue", None, True, 10_000, "warning", 0),
        ]
    )
    start = NOW - timedelta(hours=1)
    reported = [
        {"kind": "meter_unreachable", "meter_external_id": "m-1", "started_at": start.isoformat(),
         "ended_at": (start + timedelta(minutes=7)).isoformat()},
        {"kind": "meter_unreachable", "meter_external_id": "m-2", "started_at": start.isoformat(),
         "ended_at": (start + timedelta(minutes=4)).isoformat()},  # shorter than central's rule
        {"kind": "edge_queue", "started_at": start.isoformat(), "ended_at": (start + timedelta(minutes=1)).isoformat()},
        {"kind": "heartbeat_missing", "started_at": start.isoformat(), "ended_at": NOW.isoformat()},  # not the edge's
    ]  # fmt: skip
    found = past_outages(book, [site(timezone="UTC", health={"edge_alerts": reported})])
    assert [(p.rule.kind, p.meter_external_id, p.started_at) for p in found] == [
        ("meter_unreachable", "m-1", start),
        ("edge_queue", None, start),
    ]
    assert found[0].ended_at == start + timedelta(minutes=7) and "reported by the edge" in found[0].message
    assert (
        past_outages(book, [site(timezone="UTC", maintenance=True, health={"edge_alerts": reported})]) == []
    )


def test_outage_span_names_dates_only_when_it_crosses_midnight():
    from api.alerts.rules import span

    evening = datetime(2026, 3, 2, 23, 50, tzinfo=UTC)  # pure formatting: no clock involved
    assert span(evening - timedelta(minutes=20), evening, "UTC") == "from 23:30 to 23:50 UTC"
    assert (
        span(evening, evening + timedelta(minutes=20), "UTC")
        == "from 2026-03-02 23:50 to 2026-03-03 00:10 UTC"
    )
    assert span(evening, evening + timedelta(minutes=20), "Europe/Berlin") == "from 00:50 to 01:10 CET"
    fall_back = datetime(2026, 10, 25, 0, 59, 50, tzinfo=UTC)  # Berlin's 02:59 CEST, 30 s before 02:00 CET
    assert (
        span(fall_back, fall_back + timedelta(seconds=30), "Europe/Berlin") == "from 02:59 CEST to 02:00 CET"
    )
