"""MCP tools of sites: get_site_status."""

from mcp.server.mcpserver import Context, MCPServer

from api.mcp import models as out
from api.mcp.runner import ToolRunner
from api.services import sites as sites_service
from db.central.alert_store import open_alert_counts


def register_site_tools(server: MCPServer, run: ToolRunner) -> None:
    """Add the tools that read sites."""

    @server.tool()
    async def get_site_status(ctx: Context, site_id: int | None = None) -> out.SiteStatusResult:
        """Live status of one site or all: online/degraded/offline, last heartbeat, queue, meters, today's kWh."""

        async def work(session, caller):
            rows = (
                [await sites_service.get_site(session, site_id, caller)]
                if site_id
                else await sites_service.list_sites(session, caller)
            )
            open_counts = await open_alert_counts(session)
            sites = [
                out.SiteStatus.of(
                    site,
                    counts,
                    await sites_service.today_energy(session, site),
                    open_alerts=open_counts.get(site.id, 0),
                )
                for site, counts in rows
            ]
            return out.SiteStatusResult(sites=sites)

        return await run(ctx, work)
