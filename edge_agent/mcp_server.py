"""The edge MCP server (`meterit mcp edge`): control and inspect the on-site agent from a model.

Tools call an agent's control API: `meterit mcp edge` passes a LocalAgentClient, which drives the running
agent through its local GraphQL API (one collector per site, always; with no agent running the tools say so).
Over stdio the caller is the local user who launched it; over streamable HTTP a bearer token
(METERIT_MCP_TOKEN) is required when set.
"""

import hmac
import logging
from datetime import datetime

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from causes import Cause, text
from db.errors import DbError
from edge_agent.errors import EdgeError
from edge_agent.local_client import LocalAgentClient
from edge_agent.models import (
    AgentStatus,
    DeadLetterEntry,
    DiscoveredDevice,
    EdgeAlertEntry,
    InventoryView,
    MeterStatus,
    ReadingRow,
    SyncLogEntry,
    SyncSummary,
)
from edge_agent.service import EdgeAgent

logger = logging.getLogger(__name__)
INSTRUCTIONS = (
    "MeterIT edge agent at one site: it polls BACnet meters, queues readings locally and uploads them to "
    "central. get_meter_status and get_sync_status show health; query_meter_readings shows local data."
)
MAX_ROWS = 5000


class SyncStatus(BaseModel):
    """The agent's state with its latest upload attempts and rejected readings."""

    status: AgentStatus
    recent_syncs: list[SyncLogEntry]
    dead_letters: list[DeadLetterEntry]


class MetersStatus(BaseModel):
    """Configured meters and their health."""

    meters: list[MeterStatus]


class MeterReadings(BaseModel):
    """Locally kept readings of one meter, oldest first."""

    meter: str
    point: str | None
    count: int
    truncated: bool = Field(description="true when more readings matched than were returned")
    items: list[ReadingRow]


class EdgeAlerts(BaseModel):
    """The edge's own alerts: open ones (ended_at null) first, then ended ones, newest first."""

    open: int
    alerts: list[EdgeAlertEntry]


class Discovery(BaseModel):
    """Devices that answered Who-Is."""

    address_range: str
    devices: list[DiscoveredDevice]


def _bearer(ctx: Context | None) -> str | None:
    request = getattr(ctx.request_context, "request", None) if ctx else None
    if request is None:
        return None
    scheme, _, value = (request.headers.get("authorization") or "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def build_edge_mcp(agent: "EdgeAgent | LocalAgentClient", *, token: str | None = None) -> MCPServer:
    """The server with its nine tools over an agent (a started one, or the running one's client)."""
    server = MCPServer("meterit-edge", instructions=INSTRUCTIONS)

    async def run(ctx: Context, work):
        presented = _bearer(ctx)
        if presented is not None and token and not hmac.compare_digest(presented.encode(), token.encode()):
            raise ToolError(text(Cause.MCP_TOKEN_WRONG))
        try:
            return await work()
        except (EdgeError, DbError, ValueError) as err:
            raise ToolError(str(err)) from err

    @server.tool()
    async def start_collection(ctx: Context) -> AgentStatus:
        """Resume polling the meters on the collection interval; returns the agent's status."""
        return await run(ctx, agent.start_collection)

    @server.tool()
    async def stop_collection(ctx: Context) -> AgentStatus:
        """Pause polling the meters (queued readings still upload); returns the agent's status."""
        return await run(ctx, agent.stop_collection)

    @server.tool()
    async def get_sync_status(ctx: Context, limit: int = 20) -> SyncStatus:
        """Queue depth, link to central, success rates, the latest upload attempts and rejected readings."""

        async def work():
            n = max(1, min(limit, 200))
            return SyncStatus(
                status=await agent.status(),
                recent_syncs=await agent.sync_log(n),
                dead_letters=await agent.dead_letters(n),
            )

        return await run(ctx, work)

    @server.tool()
    async def trigger_sync(ctx: Context) -> SyncSummary:
        """Upload the queued readings to central now; returns how many were new, duplicate or rejected."""
        return await run(ctx, agent.trigger_sync)

    @server.tool()
    async def query_meter_readings(
        ctx: Context, meter: str, point: str | None = None, since: datetime | None = None, limit: int = 1000
    ) -> MeterReadings:
        """Readings kept at the site for one meter (external id, e.g. meter-001), one point or all, since a
        time (ISO-8601 with zone; default the last 24 hours)."""

        async def work():
            known = {m.external_id for m in await agent.meters()}
            if meter not in known:
                raise ToolError(
                    f"{text(Cause.UNKNOWN_METER, meter=meter)}; known: {', '.join(sorted(known)) or 'none'}"
                )
            rows = await agent.recent_readings(meter, point, since)
            n = max(1, min(limit, MAX_ROWS))
            return MeterReadings(
                meter=meter, point=point, count=len(rows), truncated=len(rows) > n, items=rows[-n:]
            )

        return await run(ctx, work)

    @server.tool()
    async def get_meter_status(ctx: Context, meter: str | None = None) -> MetersStatus:
        """Configured meters (or one, by external id) with reachability, last error and last reading time."""

        async def work():
            meters = await agent.meters()
            if meter is not None:
                meters = [m for m in meters if m.external_id == meter]
                if not meters:
                    raise ToolError(text(Cause.UNKNOWN_METER, meter=meter))
            return MetersStatus(meters=meters)

        return await run(ctx, work)

    @server.tool()
    async def get_alerts(ctx: Context) -> EdgeAlerts:
        """The alerts the edge decides itself, also while central is unreachable: central unreachable,
        meter unreachable, outbox too deep (thresholds in the edge's settings), with start and end."""

        async def work():
            alerts = await agent.edge_alerts()
            return EdgeAlerts(open=sum(1 for a in alerts if a.ended_at is None), alerts=alerts)

        return await run(ctx, work)

    @server.tool()
    async def get_inventory(ctx: Context) -> InventoryView:
        """The site's meter inventory as it runs here: version, a change not yet accepted by central, meters
        with their BACnet objects, units, cumulative flags and intervals, and the history of changes."""
        return await run(ctx, agent.inventory_view)

    @server.tool()
    async def discover_devices(ctx: Context, address_range: str) -> Discovery:
        """Find BACnet devices by Who-Is to each address of a range like 127.0.0.10-127.0.0.20 or 127.0.0.10-20 (at most the
        agent's range limit), with their analog objects and units."""

        async def work():
            return Discovery(address_range=address_range, devices=await agent.discover_devices(address_range))

        return await run(ctx, work)

    return server
