"""The edge's query (site key in X-API-Key): siteConfig."""

import strawberry
from strawberry.types import Info

from api.schema.edge.types import ConfigMeter, SiteConfig
from api.schema.inventory.types import SiteInventory
from api.schema.permissions import IsSite
from api.services import inventory as inventory_service
from api.services.access import site_key_scope


@strawberry.type
class EdgeQuery:
    """Queries of the edge agent."""

    @strawberry.field(permission_classes=[IsSite])
    async def site_config(self, info: Info) -> SiteConfig:
        """The key's own site configuration: meters, points and collection interval (cached, api/realtime/cache.py)."""
        site = info.context.site

        async def load() -> SiteConfig:
            async with info.context.session() as session:
                inventory = await inventory_service.site_inventory(session, site.id, site_key_scope(site.id))
            return SiteConfig(
                site_id=strawberry.ID(str(site.id)),
                site_name=site.name,
                timezone=site.timezone,
                collection_interval_seconds=site.collection_interval_seconds,
                meters=[ConfigMeter.from_inventory(m) for m in inventory.inventory.meters],
                inventory=SiteInventory.from_service(inventory),
            )

        caches = info.context.caches
        if caches is None:
            return await load()
        return await caches.configs.get_or_load(site.id, load)
