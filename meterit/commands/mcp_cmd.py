"""`meterit mcp client|edge`: the MCP servers, over stdio (default) or streamable HTTP (`--http`, path /mcp)."""

import asyncio
import ipaddress
import logging
import os

logger = logging.getLogger(__name__)
MIN_ADMIN_KEY = 32


def register(subparsers) -> None:
    """Add `meterit mcp client` and `meterit mcp edge`."""
    parser = subparsers.add_parser(
        "mcp",
        help="run an MCP server for AI assistants (central tools or edge tools)",
        description="Serve MCP tools over stdio (for a client that launches the command) or streamable HTTP. "
        "See docs/mcp.md for client configuration.",
    )
    kinds = parser.add_subparsers(dest="mcp_kind", metavar="SERVER", required=True)
    client = kinds.add_parser(
        "client",
        help="central tools: query_meters, query_readings, get_site_status, list_alerts, configure_alert_rules, "
        "generate_report, send_alert_email",
        description="Central MCP server. Authorisation: METERIT_MCP_TOKEN (a user's JWT from the login mutation, "
        "or the admin key METERIT_MCP_ADMIN_KEY) over stdio; an Authorization: Bearer header over HTTP.",
    )
    client.add_argument(
        "--database-url", help="central database (default: DATABASE_URL / POSTGRES_* / SQLite)"
    )
    _transport_options(client, 8765)
    client.set_defaults(handler=_client)
    edge = kinds.add_parser(
        "edge",
        help="edge tools: start_collection, stop_collection, get_sync_status, trigger_sync, "
        "query_meter_readings, get_meter_status, get_inventory, discover_devices",
        description="An MCP server in front of the running edge agent: it talks to the agent's local API "
        "(LOCAL_API_HOST/LOCAL_API_PORT, LOCAL_API_PASSWORD when set; settings from the environment and .env as "
        "`meterit edge`) and never starts a collector of its own. Over HTTP beyond 127.0.0.1, METERIT_MCP_TOKEN "
        "is required as a bearer token.",
    )
    _transport_options(edge, 8766)
    edge.set_defaults(handler=_edge)


def _transport_options(parser, port: int) -> None:
    parser.add_argument("--http", action="store_true", help="serve streamable HTTP at http://HOST:PORT/mcp")
    parser.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=port, help=f"HTTP port (default {port})")


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


async def _serve(server, args) -> None:
    if args.http:
        logger.info("MCP server on http://%s:%d/mcp", args.host, args.port)
        await server.run_streamable_http_async(host=args.host, port=args.port)
    else:
        await server.run_stdio_async()


def _client(args) -> int:
    from api.mcp.server import build_central_mcp
    from api.settings import CentralSettings
    from db.engine import make_engine, make_sessionmaker

    settings = CentralSettings()
    token = os.environ.get("METERIT_MCP_TOKEN") or None
    admin_key = os.environ.get("METERIT_MCP_ADMIN_KEY") or None
    if admin_key and len(admin_key) < MIN_ADMIN_KEY:
        raise ValueError(f"METERIT_MCP_ADMIN_KEY must have at least {MIN_ADMIN_KEY} characters")
    if not args.http and not token:
        logger.warning("METERIT_MCP_TOKEN is not set: every tool will answer 'not authorised'")

    async def main() -> None:
        engine = make_engine(args.database_url or settings.db_url, pool_size=2)
        try:
            server = build_central_mcp(settings, make_sessionmaker(engine), token=token, admin_key=admin_key)
            await _serve(server, args)
        finally:
            await engine.dispose()

    asyncio.run(main())
    return 0


def _edge(args) -> int:
    from edge_agent.local_client import LocalAgentClient
    from edge_agent.mcp_server import build_edge_mcp
    from edge_agent.settings import EdgeSettings

    token = os.environ.get("METERIT_MCP_TOKEN") or None
    if args.http and not token and not _loopback(args.host):
        raise ValueError("set METERIT_MCP_TOKEN before serving the edge MCP server beyond loopback")

    settings = EdgeSettings()
    host = "127.0.0.1" if settings.local_api_host in ("0.0.0.0", "::") else settings.local_api_host
    agent = LocalAgentClient(f"http://{host}:{settings.local_api_port}/graphql", settings.local_api_password)

    async def main() -> None:
        await _serve(build_edge_mcp(agent, token=token), args)

    asyncio.run(main())
    return 0
