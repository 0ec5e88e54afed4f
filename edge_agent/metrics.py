"""Prometheus metrics of the edge agent (served on a loopback port by `meterit edge`)."""

from prometheus_client import Counter, Gauge, start_http_server

VALUES_COLLECTED = Counter("meterit_edge_values_collected_total", "Values read from meters and queued")
VALUES_REFUSED = Counter(
    "meterit_edge_values_refused_total", "Served values refused or marked bad at collection", ["reason"]
)
for _reason in ("not_finite", "implausible_kept_bad"):
    VALUES_REFUSED.labels(_reason)  # present at 0 from the start, so a rule on it sees the series
METER_POLLS = Counter("meterit_edge_meter_polls_total", "Meter polls by outcome", ["outcome"])
READINGS_UPLOADED = Counter(
    "meterit_edge_readings_uploaded_total", "Readings acknowledged by central", ["result"]
)
UPLOAD_ATTEMPTS = Counter(
    "meterit_edge_upload_attempts_total", "Batch upload attempts by outcome", ["outcome"]
)
QUEUE_DEPTH = Gauge("meterit_edge_queue_depth", "Readings waiting in the outbox")
OLDEST_QUEUED_AGE = Gauge("meterit_edge_oldest_queued_age_seconds", "Age of the oldest queued reading")
CENTRAL_REACHABLE = Gauge("meterit_edge_central_reachable", "1 when the last contact with central worked")
METERS_REACHABLE = Gauge("meterit_edge_meters_reachable", "Meters that answered their last poll")
METERS_TOTAL = Gauge("meterit_edge_meters_total", "Meters configured and enabled")
COLLECTION_SUCCESS_RATE = Gauge(
    "meterit_edge_collection_success_rate", "Share of meter polls that answered (recent)"
)
SYNC_SUCCESS_RATE = Gauge("meterit_edge_sync_success_rate", "Share of upload attempts that worked (recent)")
BBMD_REGISTERED = Gauge(
    "meterit_edge_bbmd_registered", "1 while registered as a foreign device with BACNET_BBMD_ADDRESS"
)
BBMD_REGISTRATIONS = Counter(
    "meterit_edge_bbmd_registrations_total", "Foreign-device registrations (and renewals) the BBMD accepted"
)
OUTBOX_FULL = Gauge("meterit_edge_outbox_full", "1 while the outbox is at its cap")
ALERTS_OPEN = Gauge("meterit_edge_alerts_open", "The edge's own open alerts, by kind", ["kind"])
for _kind in ("central_unreachable", "meter_unreachable", "edge_queue"):
    ALERTS_OPEN.labels(_kind)  # present at 0 from the start, so a rule on it sees the series


def serve_metrics(host: str, port: int) -> None:
    """Expose /metrics over HTTP on host:port (a daemon thread)."""
    start_http_server(port, addr=host)
