"""The central server's Starlette application: /graphql (HTTP + websockets), /healthz, /metrics, static files."""

import asyncio
import gc
import logging
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL

from api import metrics
from api.alerts.runtime import start_alert_engine
from api.background.monitor import maintain_partitions, run_monitor, stop_task
from api.background.rollup_worker import run_rollup_worker
from api.http.graphiql import STATIC_DIR
from api.http.middleware import BodyLimitMiddleware, RequestLogMiddleware
from api.http.security_headers import SecurityHeadersMiddleware
from api.http.view import MeterITGraphQL
from api.ingest import decode as upload_decode
from api.metrics_auth import metrics_refusal
from api.realtime.cache import Caches
from api.realtime.pubsub import make_pubsub
from api.schema.root import build_schema
from api.services.export import export_readings
from api.services.export_energy import export_energy
from api.services.report_mail import start_report_mailer
from api.settings import CentralSettings, get_settings
from db.central.native import native_loops
from db.central.rollups.queue import autovacuum_runs
from db.engine import check_connection, make_engine, make_sessionmaker, safe_url, session_scope
from db.errors import DatabaseUnavailable
from db.logs import add_log_files

logger = logging.getLogger(__name__)


GC_THRESHOLDS = (50_000, 50, 100)


def tune_garbage_collector() -> None:
    """Keep startup objects out of collections and collect less often (uploads allocate ~10k objects)."""
    # With the default threshold of 700 a 1,000-reading upload triggers several collections, and the
    # older generations hold every module, schema and mapper: ~15% of an upload's CPU (measured).
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def report_native_loops() -> None:
    """Set meterit_native_loops, and warn when a C loop of central runs in Python (no compiler at install)."""
    loops = {**native_loops(), "upload_decode": upload_decode.native is not None}
    for module, built in loops.items():
        metrics.NATIVE_LOOPS.labels(module).set(int(built))
    if missing := [module for module, built in loops.items() if not built]:
        logger.warning(
            "central runs the Python forms of its C loops (%s): the same results at several times the CPU per "
            "reading; install a C compiler and the Python headers, then reinstall (docs/deployment.md)",
            ", ".join(missing),
        )


async def report_autovacuum(sessions) -> None:
    """Warn when PostgreSQL runs without autovacuum: the fold queue and the summary's states need it."""
    async with session_scope(sessions) as session:
        if await autovacuum_runs(session):
            return
    logger.warning(
        "PostgreSQL runs with autovacuum off: the fold queue (rollup_dirty) and energy_summary_state keep "
        "every deleted or replaced row, and each fold reads past them; turn it on, or VACUUM those tables "
        "often (docs/operations.md)"
    )


def create_app(settings: CentralSettings | None = None) -> Starlette:
    """Build the app; the lifespan opens pub/sub, creates partitions and starts the site monitor."""
    settings = settings or get_settings()
    engine = make_engine(settings.db_url)
    sessions = make_sessionmaker(engine)
    pubsub = make_pubsub(settings.db_url)
    caches = Caches(pubsub)
    from api.schema.subscriptions.schema import Subscription

    schema = build_schema(settings, subscription=Subscription)
    graphql = MeterITGraphQL(
        schema,
        settings=settings,
        sessions=sessions,
        pubsub=pubsub,
        caches=caches,
        graphql_ide="graphiql" if settings.graphiql_enabled else None,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
    )

    @asynccontextmanager
    async def lifespan(app: Starlette):
        await pubsub.start()
        await caches.start()
        metrics.watch(engine, pubsub, graphql.fanout)
        gauges = asyncio.create_task(metrics.keep_refreshed())
        await maintain_partitions(engine, settings.raw_retention_days)
        await report_autovacuum(sessions)
        monitor = asyncio.create_task(
            run_monitor(engine, sessions, pubsub, settings.offline_after_minutes, settings.raw_retention_days)
        )
        rollup_worker = asyncio.create_task(
            run_rollup_worker(sessions, settle=settings.rollup_settle_seconds)
        )
        alert_runtime = await start_alert_engine(settings, sessions, pubsub)
        app.state.alert_engine = alert_runtime.engine  # read by alertOutlook (api/alerts/runtime.engine_of)
        report_mailer = start_report_mailer(settings, sessions)
        tune_garbage_collector()
        report_native_loops()
        logger.info(
            "central API ready on %s (database %s)", settings.db_url.split(":", 1)[0], safe_url(engine.url)
        )
        try:
            yield
        finally:
            await alert_runtime.stop()
            if report_mailer is not None:
                await stop_task(report_mailer)
            await stop_task(monitor)
            await stop_task(rollup_worker)
            await stop_task(gauges)
            metrics.worker_exited()
            await caches.stop()
            await pubsub.stop()
            await engine.dispose()

    async def healthz(request: Request) -> Response:
        try:
            await check_connection(engine)
        except DatabaseUnavailable as err:
            logger.warning("health check failed: %s", err)
            return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    async def metrics_endpoint(request: Request) -> Response:
        refusal = metrics_refusal(settings, request.headers.get("authorization"))
        if refusal is not None:
            return PlainTextResponse(refusal[1], status_code=refusal[0])
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/metrics", metrics_endpoint),
            Route("/export/readings.csv", export_readings),
            Route("/export/energy.csv", export_energy),
            Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        ],
        middleware=[
            Middleware(RequestLogMiddleware),
            Middleware(SecurityHeadersMiddleware, production=settings.environment == "production"),
            Middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes),
        ],
        lifespan=lifespan,
    )
    app.state.settings, app.state.engine, app.state.sessions, app.state.pubsub = (
        settings,
        engine,
        sessions,
        pubsub,
    )
    return app


def create_app_from_env() -> Starlette:
    """Factory for uvicorn workers (`--workers N`): settings from the environment."""
    settings = CentralSettings()
    if not logging.getLogger().handlers:  # spawned workers do not inherit the CLI's logging setup
        logging.basicConfig(
            level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    if settings.log_dir:
        setup_central_log_files(settings)
    return create_app(settings)


def setup_central_log_files(settings: CentralSettings) -> None:
    """central.log (every record) and access.log (the request log) in LOG_DIR, as JSON lines (db/logs.py)."""
    add_log_files(
        settings.log_dir,
        {"central.log": None, "access.log": ("api.access",)},
        settings.log_level,
        settings.log_max_bytes,
        settings.log_backup_count,
        settings.log_max_age_days,
    )
