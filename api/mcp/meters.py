"""MCP tools of meters and their readings: query_meters, query_readings, query_energy."""

from datetime import datetime
from typing import Literal

from mcp.server.mcpserver import Context, MCPServer

from api.mcp import models as out
from api.mcp.runner import ToolRunner
from api.services import meters as meters_service
from api.services import readings as readings_service
from db.central.storage.readings_query import as_models


def register_meter_tools(server: MCPServer, run: ToolRunner) -> None:
    """Add the tools that read meters, readings and energy."""

    @server.tool()
    async def query_meters(ctx: Context, site_id: int | None = None) -> out.MetersResult:
        """Meters of one site (or every site) with state, reachability, last error and each point's newest value."""

        async def work(session, caller):
            rows = await meters_service.meters_with_points(session, caller, site_id)
            intervals = await meters_service.site_intervals(session, {m.site_id for m, _ in rows})
            meters = [out.MeterInfo.of(m, points, intervals.get(m.site_id)) for m, points in rows]
            return out.MetersResult(meters=meters)

        return await run(ctx, work)

    @server.tool()
    async def query_readings(
        ctx: Context,
        meter_id: int,
        point: str,
        start: datetime,
        end: datetime,
        resolution: Literal["raw", "minute", "hour", "day"] = "raw",
        limit: int = 1000,
        after: str | None = None,
    ) -> out.ReadingsResult:
        """Readings of one data point (e.g. power_kw) in [start, end) (ISO-8601 with zone), raw or per bucket.

        hour and day are the site's local hours and days, the same buckets as query_energy: the mean, min and
        max of usable readings (quality < 2) and the count of all; a cumulative register (e.g. total_kwh)
        gives its consumption per bucket with the first/last register value.
        """

        async def work(session, caller):
            rows, cursor = await readings_service.readings(
                session, meter_id, point, start, end, resolution, limit, after, scope=caller
            )
            items = as_models(rows)
            return out.ReadingsResult(
                meter_id=meter_id, point=point, resolution=resolution, items=items, next_cursor=cursor
            )

        return await run(ctx, work)

    @server.tool()
    async def query_energy(
        ctx: Context,
        meter_id: int,
        point: str,
        start: datetime,
        end: datetime,
        resolution: Literal["quarter_hour", "hour", "day", "month"] = "hour",
        limit: int = 1000,
        after: str | None = None,
    ) -> out.EnergyResult:
        """Consumption, demand, completeness, quality and cost per 15 min/hour/local day/month in [start, end)."""

        async def work(session, caller):
            rows, cursor, facts = await readings_service.energy(
                session, meter_id, point, start, end, resolution, limit, after, scope=caller
            )
            items = [out.EnergyItem.of(r) for r in rows]
            return out.EnergyResult(
                meter_id=meter_id,
                point=point,
                resolution=resolution,
                timezone=facts.timezone,
                currency=facts.tariff.currency if facts.tariff and facts.price else None,
                items=items,
                next_cursor=cursor,
            )

        return await run(ctx, work)
