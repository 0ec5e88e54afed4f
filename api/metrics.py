"""Prometheus metrics of the central API (served at /metrics; per worker process)."""

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "meterit_http_requests", "HTTP requests answered", ["method", "path", "status"], registry=REGISTRY
)
UPLOADS = Counter(
    "meterit_uploads",
    "uploadReadings requests by path (fast: api/upload_fast.py)",
    ["path"],
    registry=REGISTRY,
)
READINGS_INGESTED = Counter("meterit_readings_ingested", "New readings stored", registry=REGISTRY)
READINGS_DUPLICATE = Counter(
    "meterit_readings_duplicate", "Uploaded readings already stored", registry=REGISTRY
)
READINGS_REJECTED = Counter("meterit_readings_rejected", "Uploaded readings rejected", registry=REGISTRY)
SITE_ADDRESS_REFUSED = Counter(
    "meterit_site_address_refused",
    "Site-key requests refused (HTTP 403): client address outside the site's allowed networks",
    ["site"],
    registry=REGISTRY,
)
LOGIN_ATTEMPTS = Counter(
    "meterit_login_attempts",
    "Login attempts by result (success, failure, throttled: refused without checking the password)",
    ["result"],
    registry=REGISTRY,
)
LOGIN_LOCKS = Counter(
    "meterit_login_locks",
    "Temporary login locks, per account or per client address",
    ["scope"],
    registry=REGISTRY,
)
RATE_LIMITED = Counter(
    "meterit_rate_limited",
    "Requests answered 429: a site past its limit, or an address past its limit of wrong site keys",
    ["reason"],
    registry=REGISTRY,
)
SITES_ONLINE = Gauge("meterit_sites_online", "Sites whose status is online or degraded", registry=REGISTRY)
PUBSUB_LAG = Histogram(
    "meterit_pubsub_lag_seconds",
    "Delay from publish to delivery in this process",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    registry=REGISTRY,
)


def render() -> tuple[bytes, str]:
    """The exposition text and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
