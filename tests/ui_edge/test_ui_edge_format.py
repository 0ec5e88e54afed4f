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
