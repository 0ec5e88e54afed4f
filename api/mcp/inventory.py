"""MCP tools of a site's meter inventory: get_site_inventory, edit_meter."""

from mcp.server.mcpserver import Context, MCPServer

from api.mcp import models as out
from api.mcp.runner import ToolRunner
from api.services import inventory as inventory_service
from db.inventory import InventoryPoint
from db.inventory_history import InventoryHistoryEntry


def register_inventory_tools(server: MCPServer, run: ToolRunner) -> None:
    """Add the tools that read and edit a site's inventory."""

    @server.tool()
    async def get_site_inventory(ctx: Context, site_id: int, history: int = 20) -> out.SiteInventoryResult:
        """A site's meter inventory: its version, every meter with its BACnet address, points (object type,
        instance, unit, cumulative), interval, and the history of changes (origin, author, what changed)."""

        async def work(session, caller):
            return _inventory(await inventory_service.site_inventory(session, site_id, caller, history))

        return await run(ctx, work)

    @server.tool()
    async def edit_meter(
        ctx: Context,
        site_id: int,
        external_id: str,
        name: str | None = None,
        bacnet_address: str | None = None,
        bacnet_device_id: int | None = None,
        enabled: bool | None = None,
        interval_seconds: float | None = None,
        points: list[InventoryPoint] | None = None,
    ) -> out.SiteInventoryResult:
        """Change (or add) one meter of a site's inventory; fields left out keep their value, points
        replace the list (the site's managers). The edge applies the new version at its next sync."""

        async def work(session, caller):
            fields = {"name": name, "bacnet_address": bacnet_address, "bacnet_device_id": bacnet_device_id,
                      "enabled": enabled, "interval_seconds": interval_seconds}  # fmt: skip
            point_list = None if points is None else [p.model_dump() for p in points]
            found = await inventory_service.edit_meter(
                session, site_id, external_id, fields, point_list, "mcp", caller.name, caller
            )
            return _inventory(found)

        return await run(ctx, work)


def _inventory(found: inventory_service.SiteInventory) -> out.SiteInventoryResult:
    return out.SiteInventoryResult(
        site_id=found.site_id,
        version=found.version,
        digest=found.inventory.digest(),
        meters=list(found.inventory.meters),
        history=[InventoryHistoryEntry.stored(row) for row in found.history],
    )
