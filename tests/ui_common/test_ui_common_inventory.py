"""The inventory helpers both dashboards share: unit symbols, intervals, history rows, point summaries."""

import re
from datetime import UTC, datetime

import pytest

from causes import Cause, text
from ui_client.pages.admin_meters_state import meter_rows, points_summary
from ui_common.inventory import (
    device_id,
    form_fields,
    history_rows,
    interval_text,
    parse_interval,
    parse_points,
    unit_symbol,
)
from ui_edge.pages.inventory import version_text

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def test_units_show_as_symbols_and_unknown_units_as_they_are():
    assert [unit_symbol(u) for u in ("kilowatt-hours", "kilowatts", "Watts", None, "furlongs")] == [
        "kWh", "kW", "W", "", "furlongs",
    ]  # fmt: skip


def test_intervals_read_from_the_form_and_written_back():
    assert parse_interval(" 30 ") == 30.0 and parse_interval("") is None
    assert interval_text(30.0) == "30" and interval_text(2.5) == "2.5" and interval_text(None) == ""
    with pytest.raises(ValueError, match="number of seconds"):
        parse_interval("fast")


def test_history_rows_say_when_where_who_what_and_conflicts():
    entry = {"version": 3, "origin": "central_dashboard", "author": "a@example.test",
             "createdAt": "2026-01-10T11:55:00+00:00", "changes": ["m1: name 'A' -> 'B'", "m1: interval"],
             "conflicts": [{"meter": "m1", "field": "name", "kept": '"B"', "dropped": '"C"'}]}  # fmt: skip
    lost = {"version": None, "origin": "edge_dashboard", "createdAt": "2026-01-10T09:00:00Z", "changes": []}
    rows = history_rows([entry, lost], NOW)
    assert rows[0] == {
        "version": "3", "when": "2026-01-10 11:55:00 UTC (5 min ago)", "origin": "central_dashboard",
        "author": "a@example.test", "changes": "m1: name 'A' -> 'B'; m1: interval",
        "conflicts": 'm1.name: kept "B", not "C"',
    }  # fmt: skip
    assert (rows[1]["version"], rows[1]["author"], rows[1]["changes"]) == ("–", "–", "no change")


def test_meters_list_the_inventory_with_state_then_placeholders():
    inventory = [{"externalId": "m1", "name": "Main", "bacnetAddress": "127.0.0.5", "bacnetDeviceId": 5,
                  "enabled": True, "intervalSeconds": None,
                  "points": [{"name": "energy", "unit": "kilowatt-hours", "cumulative": True},
                             {"name": "power", "unit": "kilowatts", "cumulative": False}]}]  # fmt: skip
    central = [{"id": 7, "externalId": "m1", "state": "never answered"},
               {"id": 8, "externalId": "ghost", "name": "ghost", "enabled": True, "state": "reachable",
                "dataPoints": [{"name": "x"}]}]  # fmt: skip
    rows = meter_rows(inventory, central)
    assert [(r["external_id"], r["state"], r["interval"]) for r in rows] == [
        ("m1", "never answered", "site default"), ("ghost", "reachable", "–"),
    ]  # fmt: skip
    assert rows[0]["points"] == "energy (kWh, cumulative), power (kW)"
    assert rows[1]["placeholder"] and not rows[0]["placeholder"]
    assert points_summary([]) == ""


def test_edge_version_line_says_when_central_has_not_accepted_a_change():
    assert version_text({"version": 4, "pending": False}) == "version 4"
    assert version_text({"version": None, "pending": True, "pendingOrigin": "file"}) == (
        "no version from central yet · a change from file is not yet accepted by central"
    )


def test_both_meter_forms_fill_and_check_the_same_fields():
    meter = {"name": "Main", "bacnetAddress": "127.0.0.5", "bacnetDeviceId": 7, "intervalSeconds": 30,
             "enabled": False, "points": [{"name": "energy", "objectType": "analog-input", "instance": 0}]}  # fmt: skip
    fields = form_fields(meter)
    assert fields["f_name"] == "Main" and fields["f_device_id"] == "7" and fields["f_enabled"] is False
    assert parse_points(fields["f_points"])[0]["name"] == "energy"
    assert form_fields(meter, with_points=False)["f_points"] == ""
    assert form_fields({}) == form_fields({"name": None, "bacnetAddress": None})
    assert device_id(" 12 ") == 12 and device_id("") is None
    with pytest.raises(ValueError, match=re.escape(text(Cause.DEVICE_ID_NOT_INTEGER, device="x1"))):
        device_id("x1")
