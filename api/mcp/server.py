"""The central MCP server (`meterit mcp client`): fleet data, alerts, rules, reports and email for a model.

Tools call the same service layer as the GraphQL API. Every call is authorised: over stdio by
METERIT_MCP_TOKEN (a user's JWT from the `login` mutation, or the admin key METERIT_MCP_ADMIN_KEY);
over streamable HTTP by the request's `Authorization: Bearer <token>` header only. Each call sees the
caller's sites only (api/services/access.py): viewers read them, their managers change them; sending
email needs the admin role.
"""

from mcp.server.mcpserver import MCPServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.alerts.notifier import EmailNotifier
from api.alerts.settings import AlertSettings, get_alert_settings
from api.mcp.alerts import register_alert_tools
from api.mcp.inventory import register_inventory_tools
from api.mcp.meters import register_meter_tools
from api.mcp.reports import register_report_tools
from api.mcp.runner import ToolRunner
from api.mcp.sites import register_site_tools
from api.settings import CentralSettings

INSTRUCTIONS = (
    "MeterIT central: energy meters at many sites. Start with get_site_status, then query_meters for a "
    "site's meters and query_readings for one point's values (query_energy for consumption per 15 min, hour, day or month) (ids come from those answers). list_alerts "
    "shows what is wrong; generate_report summarises energy per day."
)


def build_central_mcp(
    settings: CentralSettings,
    sessions: async_sessionmaker[AsyncSession],
    *,
    token: str | None = None,
    admin_key: str | None = None,
    alert_settings: AlertSettings | None = None,
    notifier: EmailNotifier | None = None,
) -> MCPServer:
    """The server with its tools; token is the stdio credential, admin_key the admin credential."""
    server = MCPServer("meterit-central", instructions=INSTRUCTIONS)
    alert_settings = alert_settings or get_alert_settings()
    notifier = notifier or EmailNotifier(settings, alert_settings)
    run = ToolRunner(settings, sessions, token, admin_key)
    register_meter_tools(server, run)
    register_site_tools(server, run)
    register_alert_tools(server, run, alert_settings, notifier)
    register_inventory_tools(server, run)
    register_report_tools(server, run)
    return server
