"""The site's zone as the edge takes it from siteConfig: valid names only, clock texts in it."""

from datetime import UTC, datetime

from edge_agent.site_zone import clock_text, zone_name


def test_only_known_zone_names_are_taken_and_times_read_in_them():
    assert zone_name("Europe/Berlin") == "Europe/Berlin"
    assert zone_name("Mars/Olympus") is None and zone_name("") is None and zone_name(None) is None
    ts = datetime(2026, 7, 1, 22, 30, tzinfo=UTC)
    assert clock_text(ts, "Europe/Berlin") == "00:30 CEST" and clock_text(ts, None) == "22:30 UTC"
