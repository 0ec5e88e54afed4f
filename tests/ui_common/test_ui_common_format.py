"""Formatting both dashboards share: timestamps, lengths of time (full and coarse), ages and numbers."""

from datetime import UTC, datetime, timedelta

from ui_client.format import ago as client_ago
from ui_common.clock import utcnow
from ui_common.format import add_chart_point, ago, duration, number, parse_ts

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def test_timestamps_parse_with_or_without_a_zone():
    assert parse_ts("2026-01-10T11:55:00Z") == NOW - timedelta(minutes=5)
    assert parse_ts("2026-01-10T11:55:00") == NOW - timedelta(minutes=5)
    assert parse_ts("2026-01-10T13:55:00+02:00") == NOW - timedelta(minutes=5)
    assert parse_ts(None) is None and parse_ts("") is None and parse_ts("yesterday") is None


def test_lengths_of_time_in_two_units_for_the_edge_and_one_for_central():
    lengths = (None, -3, 5, 125, 3 * 3600 + 300, 2 * 86400 + 7200)
    assert [duration(s) for s in lengths] == ["–", "0 s", "5 s", "2 min", "3 h 5 min", "2 d 2 h"]
    assert [duration(s, coarse=True) for s in lengths] == ["–", "0 s", "5 s", "2 min", "3 h", "2 d"]


def test_ages_count_from_now_and_never_for_no_timestamp():
    three_hours = "2026-01-10T08:55:00Z"
    assert ago(three_hours, NOW) == "3 h 5 min ago"
    assert ago(three_hours, NOW, coarse=True) == client_ago(three_hours, NOW) == "3 h ago"
    assert ago((utcnow() - timedelta(seconds=90)).isoformat()) == "1 min ago"
    assert ago(None, NOW) == "never" == client_ago("", NOW)
    assert ago("2026-01-10T12:00:30Z", NOW) == "0 s ago"  # a clock slightly ahead is not "in the future"


def test_numbers_have_fixed_decimals_separators_and_a_dash_for_none():
    assert number(1234.5678, 1) == "1,234.6" and number("2") == "2.00" and number(0, 3) == "0.000"
    assert number(None) == "–" and number("") == "–" and number("n/a") == "n/a"


def test_units_as_symbols_and_times_in_a_named_zone():
    from ui_common.format import local_time, unit_symbol, zone_label

    assert [unit_symbol(u) for u in ("kilowatts", "kilowatt-hours", "volts", "amperes", "hertz", "kilowatt_hours")] == [
        "kW", "kWh", "V", "A", "Hz", "kWh"
    ]  # fmt: skip
    assert unit_symbol("furlongs") == "furlongs" and unit_symbol(None) == ""
    assert zone_label("Europe/Berlin", NOW) == "Europe/Berlin (CET)" and zone_label("UTC", NOW) == "UTC"
    assert zone_label("Not/AZone", NOW) == "UTC"
    assert local_time("2026-01-10T11:55:00Z", "Asia/Tokyo", "%H:%M %Z") == "20:55 JST"
    assert local_time(None, "UTC") == "–"


def test_clock_times_carry_the_site_zone_and_a_date_past_the_sites_midnight():
    from ui_common.format import clock, clock_time

    assert clock("2026-01-10T11:55:00Z", "Europe/Berlin") == "2026-01-10 12:55:00 CET"
    assert clock("2026-07-10T11:55:00Z", "Europe/Berlin") == "2026-07-10 13:55:00 CEST"
    assert (
        clock("2026-01-10T11:55:00Z", None) == "2026-01-10 11:55:00 UTC"
    )  # zone not known yet: UTC, said so
    assert clock(None, "Europe/Berlin") == "–"
    # 22:30 UTC is 23:30 in Berlin (same day there) but 23:30 UTC is already tomorrow in Berlin
    evening = NOW.replace(hour=22, minute=30)
    assert clock_time(evening.isoformat(), "Europe/Berlin", NOW) == "23:30 CET"
    assert (
        clock_time((evening + timedelta(hours=1)).isoformat(), "Europe/Berlin", NOW) == "2026-01-11 00:30 CET"
    )
    assert clock_time((evening + timedelta(hours=1)).isoformat(), "UTC", NOW) == "23:30 UTC"


def test_simulated_span_becomes_a_chart_band_and_a_note_in_the_site_zone():
    from ui_common.format import simulated_band, simulated_note

    points = [
        {"t": f"{h:02d}:00", "ts": NOW.replace(hour=h).isoformat(), "value": 1.0} for h in range(0, 12, 2)
    ]
    start, end = NOW.replace(hour=0).isoformat(), NOW.replace(hour=5).isoformat()
    assert simulated_band(points, start, end) == ["00:00", "04:00"]
    assert simulated_band(points, None, None) == ["", ""]
    assert simulated_band(points, NOW.replace(hour=13).isoformat(), NOW.isoformat()) == ["", ""]
    assert simulated_note(start, end, "Europe/Berlin") == (
        "Simulated history (demo data, not measured) from 2026-01-10 01:00 CET to 2026-01-10 06:00 CET"
    )
    assert simulated_note(None, end, "UTC") == ""


def test_chart_points_keep_one_point_per_label_the_latest():
    from ui_common.format import unique_labels

    points = [{"t": "06:00", "value": 1}, {"t": "06:01", "value": 2}, {"t": "06:00", "value": 3}]
    assert unique_labels(points) == [{"t": "06:01", "value": 2}, {"t": "06:00", "value": 3}]
    assert unique_labels([]) == []


def test_live_points_within_one_second_share_one_place_on_the_axis():
    series = [{"t": "11:59:00", "kw": 9.0}]
    series = add_chart_point(series, {"t": "12:00:01", "kw": 10.0}, 3)
    series = add_chart_point(series, {"t": "12:00:01", "kw": 11.0}, 3)  # a second upload in the same second
    assert series == [{"t": "11:59:00", "kw": 9.0}, {"t": "12:00:01", "kw": 11.0}]
    for second in (2, 3):
        series = add_chart_point(series, {"t": f"12:00:0{second}", "kw": 12.0}, 3)
    assert [p["t"] for p in series] == ["12:00:01", "12:00:02", "12:00:03"]


def test_values_replayed_after_an_agent_restart_are_not_charted_again():
    def point(second: int) -> dict:
        return {"t": f"12:00:{second:02d}", "value": float(second), "ts": f"2026-01-10T12:00:{second:02d}Z"}

    series = [point(10), point(20)]
    for second in (5, 10, 15, 20):  # the agent's last minutes again, oldest first
        series = add_chart_point(series, point(second), 100)
    series = add_chart_point(series, point(25), 100)
    assert [p["t"] for p in series] == ["12:00:10", "12:00:20", "12:00:25"]
