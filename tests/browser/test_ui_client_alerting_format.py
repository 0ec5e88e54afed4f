"""The alerting pages' display rules: live durations, 'will alert at' hints, windows in the site's zone, rules."""

from datetime import UTC, datetime, timedelta

from ui_client.alerting_format import (
    alert_row,
    clock_time,
    default_window,
    firing_sites,
    from_local_input,
    local_input,
    outlook_hint,
    rule_row,
    site_hints,
    window_row,
)

NOW = datetime(2027, 3, 28, 12, 0, tzinfo=UTC)


def iso(ts: datetime) -> str:
    """As the API sends it."""
    return ts.isoformat()


def test_alert_rows_say_how_long_open_and_how_long_they_lasted():
    opened = alert_row(
        {"id": 1, "siteName": "A", "siteId": 3, "openedAt": iso(NOW - timedelta(seconds=95))}, NOW
    )
    assert (opened["state"], opened["duration"], opened["opened"]) == ("open", "open for 1 min", "11:58 UTC")
    later = alert_row({"id": 1, "openedAt": iso(NOW - timedelta(seconds=95))}, NOW + timedelta(minutes=10))
    assert later["duration"] == "open for 11 min" and later["site"] == "system"
    acked = alert_row({"id": 2, "openedAt": iso(NOW), "acknowledgedAt": iso(NOW), "acknowledgedBy": "ann@x",
                       "acknowledgedNote": "on it"}, NOW)  # fmt: skip
    assert (acked["state"], acked["ack"]) == ("acknowledged", "ann@x: on it")
    done = alert_row({"id": 3, "openedAt": iso(NOW - timedelta(hours=2)), "resolvedAt": iso(NOW),
                      "resolvedBy": "bob@x"}, NOW + timedelta(days=1))  # fmt: skip
    assert (done["state"], done["duration"], done["ack"]) == (
        "resolved",
        "lasted 2 h 0 min",
        "resolved by bob@x",
    )
    assert done["opened"] == "2027-03-28 10:00 UTC"  # another day: with its date
    berlin = alert_row(
        {"id": 4, "siteId": 3, "openedAt": iso(NOW - timedelta(minutes=2))}, NOW, {"3": "Europe/Berlin"}
    )
    assert berlin["opened"] == "13:58 CEST"  # in its site's zone, said so


def test_hints_say_when_an_alert_will_come_soonest_first():
    soon = {
        "siteId": "1",
        "meterExternalId": "m2",
        "state": "BUILDING",
        "alertsAt": iso(NOW + timedelta(minutes=3)),
    }
    late = {
        "siteId": "1",
        "kind": "heartbeat_missing",
        "state": "BUILDING",
        "alertsAt": iso(NOW + timedelta(hours=2)),
    }
    due = {
        "siteId": "2",
        "kind": "edge_queue",
        "state": "PENDING",
        "alertsAt": iso(NOW - timedelta(seconds=1)),
    }
    assert outlook_hint(soon, NOW) == "m2: will alert at 12:03 UTC (in 3 min)"
    # in the site's zone, with the date once past the site's midnight (NOW is 14:00 in Berlin, CEST)
    berlin = {**soon, "siteTimezone": "Europe/Berlin"}
    assert outlook_hint(berlin, NOW) == "m2: will alert at 14:03 CEST (in 3 min)"
    after_midnight = {**berlin, "alertsAt": iso(NOW + timedelta(hours=10, minutes=5))}
    assert outlook_hint(after_midnight, NOW) == "m2: will alert at 2027-03-29 00:05 CEST (in 10 h)"
    assert outlook_hint(due, NOW) == "edge queue: alert due now"
    assert outlook_hint({**late, "state": "OPEN"}, NOW) == "heartbeat missing: alert open"
    assert site_hints([late, soon, due], NOW) == {
        "1": outlook_hint(soon, NOW),
        "2": "edge queue: alert due now",
    }


def test_windows_show_in_the_site_zone_and_inputs_round_trip():
    start = datetime(2027, 3, 21, 1, 0, tzinfo=UTC)  # Sunday 02:00 CET
    row = window_row({"id": 5, "timezone": "Europe/Berlin", "startsAt": iso(start),
                      "endsAt": iso(start + timedelta(hours=2)), "repeat": "WEEKLY", "activeNow": True,
                      "nextEnd": iso(NOW + timedelta(hours=1)), "note": "filters"}, NOW)  # fmt: skip
    assert row["when"] == "every Sunday 02:00 for 2 h 0 min"
    assert row["status"] == "active until 15:00 CEST" and row["until"] == "15:00 CEST"
    assert local_input(iso(start), "Europe/Berlin") == "2027-03-21T02:00"
    assert from_local_input("2027-03-21T02:00", "Europe/Berlin") == iso(start)
    assert from_local_input("not a time", "UTC") is None
    assert clock_time(None) == "–"


def test_rules_list_where_they_fire_now():
    outlook = [{"ruleId": "4", "state": "OPEN", "siteName": "A"}, {"ruleId": "4", "state": "PENDING",
               "siteName": "B", "meterExternalId": "m1"}, {"ruleId": "4", "state": "BUILDING", "siteName": "C"}]  # fmt: skip
    fires = firing_sites(outlook)
    assert fires == {"4": ["A", "B (m1)"]}
    row = rule_row({"id": 4, "kind": "meter_unreachable", "siteId": "9", "threshold": 5.0, "thresholdUnit": "minutes",
                    "pendingSeconds": 0, "enabled": True, "recipients": []}, {"9": "Depot"}, fires)  # fmt: skip
    assert (row["site"], row["fires"], row["recipients"], row["scope"]) == (
        "Depot",
        "A, B (m1)",
        "server default",
        "site",
    )


def test_a_new_windows_default_lasts_two_real_hours_on_daylight_saving_days():
    spring, autumn = datetime(2027, 3, 28, 0, 30, tzinfo=UTC), datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
    for now in (spring, autumn, NOW):
        starts, ends = default_window(now, "Europe/Berlin")
        start, end = (datetime.fromisoformat(from_local_input(v, "Europe/Berlin")) for v in (starts, ends))
        assert end - start == timedelta(hours=2) and start > now, now
    assert default_window(spring, "Europe/Berlin") == (
        "2027-03-28T03:00",
        "2027-03-28T05:00",
    )  # 02:00 never happens
