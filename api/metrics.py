"""Prometheus metrics of the central API (served at /metrics, summed over every worker process).

Names follow Prometheus conventions: units in the name (`_seconds`), counters exposed as `_total`. With
several workers (`meterit api --workers N` sets PROMETHEUS_MULTIPROC_DIR) each worker writes its values to
files there and any worker's /metrics reads them all (prometheus_client's multiprocess mode): counters and
histograms are summed, pool and subscription gauges summed over live workers, the others the workers'
maximum. Pool and subscription gauges are taken from what `watch()` was given at each scrape and every
second. deploy/grafana-dashboard.json and deploy/prometheus-alerts.yml use these names
(tests/api/test_metrics.py holds them to what is served).
"""

import asyncio
import contextlib
import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
REFRESH_SECONDS = 1.0

REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "meterit_http_requests", "HTTP requests answered", ["method", "path", "status"], registry=REGISTRY
)
UPLOADS = Counter(
    "meterit_uploads",
    "uploadReadings requests by path (fast: api/ingest/fast.py)",
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
SITES_ONLINE = Gauge(
    "meterit_sites_online",
    "Sites whose status is online or degraded",
    registry=REGISTRY,
    multiprocess_mode="max",
)
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
    "meterit_rollup_queue_uploads",
    "Queued upload ranges waiting to be folded into the energy summary (a row per upload and fold part)",
    registry=REGISTRY,
    multiprocess_mode="max",
)
NATIVE_LOOPS = Gauge(
    "meterit_native_loops",
    "1 when central's C loops are built (module: fold, upload_rows, upload_decode), 0 when their Python forms run (several "
    "times the CPU per reading; docs/deployment.md)",
    ["module"],
    registry=REGISTRY,
    multiprocess_mode="min",
)
ROLLUP_LAG = Gauge(
    "meterit_rollup_lag_seconds",
    "Age of the oldest upload range not yet folded into the energy summary (0 when the queue is empty)",
    registry=REGISTRY,
    multiprocess_mode="max",
)


CACHE_REQUESTS = Counter(
    "meterit_cache_requests",
    "Reads of the per-worker caches (api/realtime/cache.py) by cache and result (hit, miss)",
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


POOL = {
    name: Gauge(f"meterit_db_pool_{name}", text, registry=REGISTRY, multiprocess_mode="livesum")
    for name, text in {
        "size": "Connections the pools keep open",
        "checked_out": "Connections in use by requests and background tasks",
        "overflow": "Connections open beyond the pool size",
        "capacity": "Most connections the pools open (size + max overflow); at it, requests wait",
        "waiting": "Requests and tasks waiting for a connection (db/engine.py CountingPool)",
    }.items()
}
SUBSCRIPTIONS = Gauge(
    "meterit_subscriptions_active",
    "GraphQL subscriptions open, by channel",
    ["channel"],
    registry=REGISTRY,
    multiprocess_mode="livesum",
)
SUBSCRIPTION_EXECUTIONS = Gauge(
    "meterit_subscription_executions",
    "Shared subscription executions running (one per document, variables and scope; api/realtime/fanout.py)",
    registry=REGISTRY,
    multiprocess_mode="livesum",
)


class _Watched:
    """The engine and pub/sub of the running app."""

    engine = None
    pubsub = None
    fanout = None


def watch(engine, pubsub, fanout=None) -> None:
    """Report the connection pool of engine and the subscribers of pubsub and fanout (from the app's lifespan)."""
    _Watched.engine, _Watched.pubsub, _Watched.fanout = engine, pubsub, fanout
    refresh()


def refresh() -> None:
    """Copy this worker's pool state and subscription counts into the gauges."""
    pool = getattr(getattr(_Watched.engine, "sync_engine", None), "pool", None)
    values = dict.fromkeys(POOL, 0.0)
    if pool is not None and hasattr(pool, "checkedout"):
        values["size"] = pool.size()
        values["checked_out"] = pool.checkedout()
        values["overflow"] = max(0, pool.overflow())
        values["capacity"] = pool.size() + max(0, getattr(pool, "_max_overflow", 0))
        values["waiting"] = getattr(pool, "waiting", 0)
    for name, value in values.items():
        POOL[name].set(value)
    pubsub = _Watched.pubsub
    subscribers = getattr(pubsub, "_subscribers", {}) or {}
    internal = getattr(pubsub, "internal", {}) or {}
    fanout = _Watched.fanout
    shared = fanout.extra_members() if fanout is not None else {}  # one stream serves N sockets
    SUBSCRIPTION_EXECUTIONS.set(len(fanout.executions) if fanout is not None else 0)
    for channel, queues in subscribers.items():
        count = len(queues) - internal.get(channel, 0) + shared.get(channel, 0)
        SUBSCRIPTIONS.labels(channel).set(max(0, count))


async def keep_refreshed() -> None:
    """Refresh the gauges every second, so that a scrape answered by another worker sees this one's state."""
    while True:
        refresh()
        await asyncio.sleep(REFRESH_SECONDS)


def worker_exited() -> None:
    """Drop this worker's live gauges from the shared files (its counters stay counted)."""
    if MULTIPROCESS:
        with contextlib.suppress(Exception):
            multiprocess.mark_process_dead(os.getpid())


def render() -> tuple[bytes, str]:
    """The exposition text (of every worker in multiprocess mode) and its content type."""
    refresh()
    if MULTIPROCESS:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
