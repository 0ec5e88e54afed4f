"""`meterit api`: run the central GraphQL API (uvicorn), or export its schema as SDL."""

import logging
import os
import shutil
import tempfile

logger = logging.getLogger(__name__)


def register(subparsers) -> None:
    """Add the `api` command."""
    parser = subparsers.add_parser(
        "api",
        help="run the central GraphQL API (GraphiQL, websockets, /healthz, /metrics)",
        description="Serve the central API at /graphql. TLS: pass --ssl-certfile and --ssl-keyfile "
        "(PEM files); edges then use CLIENT_API_URL=https://HOST:PORT/graphql.",
    )
    parser.add_argument("--host", help="address to bind (default: HOST setting, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: PORT setting, 3001)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--ssl-certfile", help="TLS certificate chain (PEM)")
    parser.add_argument("--ssl-keyfile", help="TLS private key (PEM)")
    parser.add_argument("--database-url", help="database URL (default: DATABASE_URL, POSTGRES_* or SQLite)")
    parser.add_argument("--no-migrate", action="store_true", help="do not upgrade the database at start")
    parser.add_argument(
        "--export-schema", metavar="FILE", help="write the GraphQL SDL to FILE ('-' = stdout) and exit"
    )
    parser.set_defaults(handler=_run)


def _export(path: str) -> int:
    from api.app import create_app  # noqa: F401  (imports every schema module)
    from api.schema.root import build_schema
    from api.schema.subscriptions.schema import Subscription
    from api.settings import CentralSettings

    sdl = build_schema(CentralSettings(), subscription=Subscription).as_str() + "\n"
    if path == "-":
        print(sdl, end="")
    else:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(sdl)
        print(f"schema written to {path}")
    return 0


def _run(args) -> int:
    if args.export_schema:
        return _export(args.export_schema)
    if bool(args.ssl_certfile) != bool(args.ssl_keyfile):
        raise ValueError("--ssl-certfile and --ssl-keyfile go together")
    if args.database_url:
        # Workers are separate processes: they read their settings from the environment.
        os.environ["DATABASE_URL"] = args.database_url
    from api.settings import CentralSettings
    from db.migrate import upgrade
    from meterit.tls import serve

    settings = CentralSettings()
    if not args.no_migrate:
        upgrade("central", settings.db_url)
    shared_metrics = None
    if args.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Several workers: each /metrics answer must cover all of them (api/metrics.py multiprocess mode).
        shared_metrics = tempfile.mkdtemp(prefix="meterit-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = shared_metrics
    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    logger.info(
        "serving the central API on %s://%s:%d/graphql", "https" if args.ssl_certfile else "http", host, port
    )
    serve(
        "api.app:create_app_from_env",
        tls_min_version=settings.tls_min_version,
        factory=True,
        host=host,
        port=port,
        workers=args.workers,
        ssl_certfile=args.ssl_certfile,
        ssl_keyfile=args.ssl_keyfile,
        access_log=False,
        # The site allowlist reads X-Forwarded-For itself, only from TRUSTED_PROXIES (api/http/client_address.py).
        proxy_headers=False,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=5,
    )
    if shared_metrics:
        shutil.rmtree(shared_metrics, ignore_errors=True)
    return 0
