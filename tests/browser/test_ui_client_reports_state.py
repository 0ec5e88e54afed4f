"""The Reports page's pure parts: the report window of a period choice and the rows of a preview."""

from datetime import UTC, timedelta

import pytest

from ui_client.pages.reports_state import report_window, site_rows


def test_a_month_runs_from_local_midnight_to_local_midnight():
    start, end = report_window("month", "2027-03", "", "", "Europe/Berlin")
    assert (start.isoformat(), end.isoformat()) == ("2027-03-01T00:00:00+01:00", "2027-04-01T00:00:00+02:00")
    elapsed = end.astimezone(UTC) - start.astimezone(UTC)
    assert elapsed == timedelta(days=31, hours=-1)  # the spring-forward day is 23 hours long


def test_a_custom_range_includes_its_last_day_and_refuses_a_reversed_one():
    start, end = report_window("custom", "", "2027-02-27", "2027-03-01", "UTC")
    assert end - start == timedelta(days=3)
    with pytest.raises(ValueError, match="last day"):
        report_window("custom", "", "2027-03-02", "2027-03-01", "UTC")
    with pytest.raises(ValueError):
        report_window("month", "March", "", "", "UTC")


def test_preview_rows_add_a_total_and_price_only_one_currency():
    report = {"sites": [
        {"siteName": "A", "energyKwh": 1200.5, "cost": 10.0, "currency": "EUR", "completeness": 0.5, "periods": [1, 2]},
        {"siteName": "B", "energyKwh": None, "cost": None, "currency": None, "completeness": None, "periods": []},
    ]}  # fmt: skip
    rows = site_rows(report)
    assert [r["site"] for r in rows] == ["A", "B", "Total"]
    assert (rows[0]["kwh"], rows[0]["cost"], rows[0]["completeness"]) == ("1,200.500", "10.00 EUR", "50.0%")
    assert (rows[1]["kwh"], rows[1]["completeness"]) == ("–", "n/a")
    assert (rows[2]["kwh"], rows[2]["cost"]) == ("1,200.500", "10.00 EUR")
    assert site_rows({"sites": []}) == []
