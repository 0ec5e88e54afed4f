"""MCP tools of reports: generate_report."""

from datetime import datetime
from typing import Literal

from mcp.server.mcpserver import Context, MCPServer

from api.mcp import models as out
from api.mcp.runner import ToolRunner
from api.services import reports
from api.services.report_formats import to_csv, to_markdown


def register_report_tools(server: MCPServer, run: ToolRunner) -> None:
    """Add the tool that generates energy reports."""

    @server.tool()
    async def generate_report(
        ctx: Context,
        start: datetime,
        end: datetime,
        site_ids: list[int] | None = None,
        resolution: Literal["DAY", "HOUR"] = "DAY",
    ) -> out.ReportResult:
        """Energy per site and meter per local day (or local hour) in [start, end), from cumulative registers
        (the `energy` tool's figures: correct across counter resets, split by time at each period's edge),
        cost by the site's tariff, peak power and when, data completeness; also as CSV and Markdown."""

        async def work(session, caller):
            report = await reports.generate_report(session, site_ids, start, end, resolution, scope=caller)
            return out.ReportResult(
                start=report.start,
                end=report.end,
                resolution=report.resolution,
                sites=report.sites,
                csv=to_csv(report),
                markdown=to_markdown(report),
            )

        return await run(ctx, work)
