"""Prometheus metrics of the central API (served at /metrics; per worker process).

Names follow Prometheus conventions: units in the name (`_seconds`), counters exposed as `_total`. Pool and
subscription gauges are read at scrape time from what `watch()` was given. deploy/grafana-dashboard.json and
deploy/prometheus-alerts.yml use these names (tests/api/test_metrics.py holds them to what is served).
"""

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

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


GRAPHQL_DURATION = Histogram(
    "meterit_graphql_request_duration_seconds",
    "Time to answer a GraphQL HTTP request, by root field (other: not in the schema) and HTTP status",
    ["operation", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
ROLLUP_QUEUE = Gauge(
    "meterit_rollup_queue_uploads", "Uploads waiting to be folded into the rollups", registry=REGISTRY
)
ROLLUP_LAG = Gauge(
    "meterit_rollup_lag_seconds",
    "Time since this worker last saw the rollup queue empty (0 while it is)",
    registry=REGISTRY,
)


CACHE_REQUESTS = Counter(
    "meterit_cache_requests",
    "Reads of the per-worker caches (api/cache.py) by cache and result (hit, miss)",
    ["cache", "result"],
    registry=REGISTRY,
)
CACHE_INVALIDATIONS = Counter(
    "meterit_cache_invalidations",
    "Entries dropped by a change or a pub/sub event",
    ["cache"],
    registry=REGISTRY,
)
for _cache in ("site_status", "meter_config"):
    for _result in ("hit", "miss"):
        CACHE_REQUESTS.labels(_cache, _result)
    CACHE_INVALIDATIONS.labels(_cache)


class _Watched:
    """The engine and pub/sub of the running app, read at scrape time."""

    engine = None
    pubsub = None


def watch(engine, pubsub) -> None:
    """Report the connection pool of engine and the subscribers of pubsub (the app's lifespan calls it)."""
    _Watched.engine, _Watched.pubsub = engine, pubsub


class _LiveCollector:
    """Connection-pool state and subscription counts, computed when /metrics is read."""

    def describe(self):
        """No fixed samples to describe ahead (the families are always emitted by collect())."""
        return []

    def collect(self):
        """The gauges' current values."""
        pool = getattr(getattr(_Watched.engine, "sync_engine", None), "pool", None)
        stats = {
            "size": "Connections the pool keeps open",
            "checked_out": "Connections in use by requests and background tasks",
            "overflow": "Connections open beyond the pool size",
            "capacity": "Most connections the pool opens (size + max overflow); at it, requests wait",
        }
        values = {name: 0.0 for name in stats}
        if pool is not None and hasattr(pool, "checkedout"):
            values["size"] = pool.size()
            values["checked_out"] = pool.checkedout()
            values["overflow"] = max(0, pool.overflow())
            values["capacity"] = pool.size() + max(0, getattr(pool, "_max_overflow", 0))
        for name, text in stats.items():
            family = GaugeMetricFamily(f"meterit_db_pool_{name}", text)
            family.add_metric([], float(values[name]))
            yield family
        subscribers = getattr(_Watched.pubsub, "_subscribers", {}) or {}
        internal = getattr(_Watched.pubsub, "internal", {}) or {}
        family = GaugeMetricFamily(
            "meterit_subscriptions_active",
            "GraphQL subscriptions open in this worker, by channel",
            labels=["channel"],
        )
        for channel, queues in sorted(subscribers.items()):
            family.add_metric([channel], float(max(0, len(queues) - internal.get(channel, 0))))
        yield family


REGISTRY.register(_LiveCollector())


def render() -> tuple[bytes, str]:
    """The exposition text and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
