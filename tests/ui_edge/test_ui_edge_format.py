"""The on-site dashboard's alert banners, from the local API's status (no browser needed)."""

from ui_edge.format import edge_alert_texts


def test_one_banner_per_open_edge_alert_except_the_central_outage():
    status = {
        "alerts": [
            {"kind": "central_unreachable", "startedAt": "2026-03-02T10:05:00+00:00", "message": "central"},
            {"kind": "meter_unreachable", "meter": "m-1", "startedAt": "2026-03-02T10:06:00+00:00",
             "message": "meter m-1 unreachable since 10:06 UTC"},
            {"kind": "edge_queue", "startedAt": None, "message": ""},
        ]
    }  # fmt: skip
    assert edge_alert_texts(status) == [
        "Alert: meter m-1 unreachable since 10:06 UTC",
        "Alert: edge_queue",
    ]
    assert edge_alert_texts({}) == []


def test_times_in_the_site_zone_and_utc_said_as_utc_until_the_edge_heard_it():
    from ui_edge.format import central_text, clock, outage_alert_text, zone_text

    ts = "2026-03-02T10:05:00+00:00"
    assert clock(ts, "Europe/Berlin") == "2026-03-02 11:05:00 CET"
    assert clock(ts) == "2026-03-02 10:05:00 UTC"
    assert zone_text(None) == "UTC (site time zone not yet known)"
    assert zone_text("Europe/Berlin").startswith("Europe/Berlin (CE")  # CET or CEST, by today's date
    berlin = {"siteTimezone": "Europe/Berlin", "centralReachable": True, "centralSince": ts}
    assert central_text(berlin) == "reachable since 2026-03-02 11:05:00 CET"
    outage = {
        "siteTimezone": "Europe/Berlin",
        "centralOutage": {"since": ts, "seconds": 1200, "alerting": True},
    }
    assert outage_alert_text(outage).startswith("Central unreachable for 20 min since 11:05 CET — ")
