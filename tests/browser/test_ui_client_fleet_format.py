"""Pure helpers of the fleet overview: sparkline geometry, card strings, chips, page ranges, sort labels."""

from ui_client.fleet_format import (
    SORT_LABELS,
    chip_label,
    fleet_card,
    peak_text,
    range_text,
    sparkline_area,
    sparkline_points,
)


def test_sparkline_scales_hours_into_the_box_and_skips_gaps():
    points = sparkline_points([0.0, None, 10.0], width=100, height=22)
    assert points == "0.0,21.0 100.0,1.0"  # first hour at the bottom, third at the top, the gap skipped
    assert sparkline_area(points, height=22) == "0.0,22 0.0,21.0 100.0,1.0 100.0,22"
    assert sparkline_points([None, None]) == "" and sparkline_area("") == ""
    assert sparkline_points([5.0], width=100, height=22) == "0,1.0 100,1.0"  # one hour: a flat line


def test_card_strings_use_symbols_and_say_stale_only_when_not_offline():
    item = {
        "openAlerts": 2,
        "powerToday": [1.0, 45.25],
        "site": {"id": 7, "name": "Depot", "status": "online", "ageSeconds": 400, "stale": True,
                 "queueDepth": 12000, "metersTotal": 4, "metersReachable": 3, "todayEnergyKwh": 12.345},
    }  # fmt: skip
    card = fleet_card(item)
    assert (card["ago"], card["stale"], card["queue"], card["meters"]) == (
        "6 min ago",
        "stale",
        "12,000",
        "3/4",
    )
    assert (card["energy"], card["alerts"], card["peak"]) == ("12.3 kWh", "2 open alerts", "peak 45.2 kW")
    offline = fleet_card({**item, "site": {**item["site"], "status": "offline", "ageSeconds": None}})
    assert (offline["stale"], offline["ago"]) == ("", "never")  # offline already says it
    assert fleet_card({**item, "site": {**item["site"], "status": "unknown"}})["stale"] == ""
    assert peak_text([]) == "no power data today"


def test_chips_ranges_and_sort_labels_read_as_words():
    assert chip_label("offline", 1234) == "Offline 1,234"
    assert range_text(24, 24, 1000) == "Sites 25–48 of 1,000"
    assert range_text(0, 0, 0) == "No sites match"
    assert "name" not in SORT_LABELS.values() and SORT_LABELS["NAME"] == "Name (A–Z)"
