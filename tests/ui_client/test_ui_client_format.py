"""Pure helpers of the central dashboard: times, resolutions, CSV, sorting, meter form parsing."""

from datetime import UTC, datetime, timedelta

import pytest

from causes import Cause, text
from meterit.commands.ui_cmd import reflex_env, reflex_run_command
from ui_client.api import refused
from ui_client.errors import ApiError, Forbidden, NotAuthenticated
from ui_client.format import (
    ago,
    choose_resolution,
    kw,
    meter_point_rows,
    range_bounds,
    site_row,
    sum_per_minute,
    to_csv,
)
from ui_common.inventory import format_points, parse_points

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def test_ago_reads_like_a_person_would_say_it():
    assert ago(None, NOW) == "never"
    assert ago((NOW - timedelta(seconds=12)).isoformat(), NOW) == "12 s ago"
    assert ago("2026-01-10T11:55:00Z", NOW) == "5 min ago"
    assert ago("2026-01-10T09:00:00", NOW) == "3 h ago"
    assert ago("2026-01-08T12:00:00+00:00", NOW) == "2 d ago"


def test_resolution_keeps_charts_readable():
    assert choose_resolution(NOW - timedelta(hours=1), NOW) == "RAW"
    assert choose_resolution(NOW - timedelta(hours=24), NOW) == "MINUTE"
    assert choose_resolution(NOW - timedelta(days=30), NOW) == "HOUR"
    assert choose_resolution(NOW - timedelta(days=365), NOW) == "DAY"


def test_custom_range_includes_the_end_day_and_refuses_reversed_dates():
    start, end = range_bounds("custom", NOW, "2026-01-01", "2026-01-02")
    assert (start.day, end.day) == (1, 3)
    assert range_bounds("7d", NOW) == (NOW - timedelta(days=7), NOW)
    with pytest.raises(ValueError, match="after"):
        range_bounds("custom", NOW, "2026-01-05", "2026-01-01")
    with pytest.raises(ValueError, match="choose"):
        range_bounds("custom", NOW, "", "")


def test_csv_has_a_header_and_one_line_per_row():
    text = to_csv(["timestamp", "value"], [["2026-01-01T00:00:00Z", 1.5], ["2026-01-01T00:01:00Z", None]])
    assert text.splitlines() == ["timestamp,value", "2026-01-01T00:00:00Z,1.5", "2026-01-01T00:01:00Z,"]


def test_site_rows_show_counts():
    sites = [
        {
            "id": 1,
            "name": "b",
            "status": "online",
            "queueDepth": 1,
            "lastHeartbeatAt": "2026-01-10T11:59:00Z",
        },
        {"id": 2, "name": "a", "status": "offline", "queueDepth": 9, "lastHeartbeatAt": None},
        {
            "id": 3,
            "name": "c",
            "status": "degraded",
            "queueDepth": 0,
            "lastHeartbeatAt": "2026-01-10T11:00:00Z",
        },
    ]
    row = site_row({**sites[0], "metersTotal": 4, "metersReachable": 3, "todayEnergyKwh": 12.345}, NOW)
    assert (row["meters"], row["energy"], row["ago"], row["queue"]) == ("3/4", "12.3", "1 min ago", "1")


def test_power_is_converted_to_kw():
    assert kw(1500, "W") == 1.5
    assert kw(2, "MW") == 2000
    assert kw(7, "kW") == 7


def test_meter_points_form_round_trips_and_names_bad_lines():
    text = "energy, analog-input, 0, kWh, yes\npower, analog-input, 1, kW, no\n"
    points = parse_points(text)
    assert points[0] == {"name": "energy", "objectType": "analog-input", "instance": 0, "unit": "kWh",
                         "cumulative": True}  # fmt: skip
    assert parse_points(format_points(points)) == points
    with pytest.raises(ValueError, match="line 2"):
        parse_points("energy, analog-input, 0\npower, analog-input, x")


def test_api_refusals_map_to_what_the_user_must_do():
    assert isinstance(refused(text(Cause.NOT_AUTHENTICATED)), NotAuthenticated)
    assert isinstance(refused(text(Cause.SESSION_ENDED)), NotAuthenticated)
    assert isinstance(refused("Unauthorized", 401), NotAuthenticated)
    assert isinstance(refused(text(Cause.ADMIN_REQUIRED)), Forbidden)
    assert isinstance(refused("", 403), Forbidden)
    error = refused("name taken")
    assert type(error) is ApiError and str(error) == "name taken"


def test_live_power_sums_meters_per_minute():
    series = {
        "m1/power": [("2026-01-10T11:58:10Z", 2.0), ("2026-01-10T11:59:10Z", 3.0)],
        "m2/power": [("2026-01-10T11:59:40Z", 5.0), ("2026-01-10T11:59:50Z", 6.0)],
    }
    assert sum_per_minute(series) == [{"t": "11:58:00", "kw": 2.0}, {"t": "11:59:00", "kw": 9.0}]


def test_each_dashboard_builds_in_its_own_work_dirs_with_local_bun():
    client, edge = reflex_env("client", base={}), reflex_env("edge", base={})
    assert client["REFLEX_WEB_WORKDIR"].endswith(".web_ui_client")
    assert edge["REFLEX_STATES_WORKDIR"].endswith(".states_ui_edge")
    assert client["REFLEX_USE_SYSTEM_BUN"] == "1" and client["PATH"].split(":")[0].endswith(".tools/bin")
    command = reflex_run_command(3005)
    assert command[command.index("--env") + 1] == "prod" and "--single-port" in command


def test_energy_bars_face_the_previous_period_and_mark_partial_buckets():
    from ui_client.energy_format import energy_bars, energy_csv_rows, energy_periods

    (lo, hi), (plo, phi) = energy_periods("DAY", NOW)
    assert (hi - lo, phi, plo) == (timedelta(days=30), lo, lo - timedelta(days=30))

    def item(day: int, kwh: float, partial: bool = False, cost: float | None = None) -> dict:
        start = datetime(2026, 1, day, 23, tzinfo=UTC)  # local midnight in Berlin
        return {"start": start.isoformat(), "end": (start + timedelta(days=1)).isoformat(), "consumption": kwh,
                "peakDemand": 9.0, "partial": partial, "quality": "UNCERTAIN" if partial else "GOOD",
                "completeness": 0.5 if partial else 1.0, "cost": cost}  # fmt: skip

    current = [item(5, 10.0, cost=2.0), item(6, 4.0, partial=True, cost=1.0)]
    previous = [item(1, 1.0), item(2, 7.0), item(3, 8.0)]
    bars = energy_bars(current, previous, "DAY", "Europe/Berlin", cumulative=True)
    assert bars == [
        {"t": "01-06", "value": 10.0, "partial": None, "previous": 7.0, "ts": current[0]["start"]},
        {"t": "01-07", "value": None, "partial": 4.0, "previous": 8.0, "ts": current[1]["start"]},
    ]
    assert energy_bars(current, [], "DAY", "UTC", cumulative=False)[0]["value"] == 9.0  # demand for power
    rows = energy_csv_rows(current, previous, cumulative=True)
    assert rows[-1] == ["total", "", 14.0, 15.0, "", "", 3.0]
    assert rows[1][4:6] == ["uncertain", 0.5]


def test_demand_series_marks_the_highest_quarter():
    from ui_client.energy_format import demand_series

    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    items = [{"start": (start + n * timedelta(minutes=15)).isoformat(), "peakDemand": kw}
             for n, kw in enumerate([10.0, 42.5, None, 12.0])]  # fmt: skip
    series, peak = demand_series(items, "America/New_York")
    assert [p["t"] for p in series] == ["04:00", "04:15", "04:45"]
    assert peak == {"t": "04:15", "kw": 42.5}
    assert demand_series([], "UTC") == ([], None)


def test_live_power_minutes_are_in_the_sites_zone():
    series = {"m1/power": [("2026-07-10T11:58:10Z", 2.0)]}
    assert sum_per_minute(series, "Europe/Berlin") == [{"t": "13:58:00", "kw": 2.0}]


def test_meter_rows_show_symbols_site_time_age_and_the_apis_state():
    meters = [{
        "id": 4, "externalId": "meter-001", "name": "Simulated meter 1", "state": "stale", "lastError": None,
        "dataPoints": [
            {"name": "power", "unit": "kilowatts", "lastValue": 12.5, "lastTs": "2026-01-10T11:50:00Z", "stale": True},
            {"name": "energy", "unit": "kilowatt-hours", "lastValue": None, "lastTs": None, "stale": True},
        ],
    }]  # fmt: skip
    rows, keys = meter_point_rows(meters, NOW, "America/New_York")
    assert [(r["unit"], r["when"], r["stale"], r["reachable"]) for r in rows] == [
        ("kW", "06:50:00 · 10 min ago", "stale", "stale"),
        ("kWh", "no data yet", "", "stale"),
    ]
    assert keys["Simulated meter 1 / power"] == ["4", "power"]
