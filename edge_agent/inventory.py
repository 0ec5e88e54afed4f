"""The edge's side of the site inventory: what it runs, what it proposes to central, and what it applies.

Central owns the versioned inventory (db/inventory.py). The edge keeps, in its database:
- the last version central sent and it applied (runs that while central is unreachable, also after a restart);
- a pending proposal: a local change (meters.json edited, a save in the edge dashboard, discovery) that central
  has not answered yet; the edge runs it at once and sends it with the version it was based on;
- the digest of meters.json as last proposed, so an edited file is proposed once.
A newer version from central replaces what runs; an older or equal one changes nothing. Nothing here touches
the outbox: readings already queued stay queued whatever the configuration does.
"""

import logging

from db.edge.store import get_state, set_state
from db.inventory import Inventory, InventoryError, InventoryMeter, parse_inventory, point_fields
from edge_agent.central import CentralClient
from edge_agent.errors import ConfigError
from edge_agent.meters import MeterConfig, PolledMeter, load_meters_file
from edge_agent.models import InventoryView

logger = logging.getLogger(__name__)

APPLIED_KEY, PENDING_KEY, FILE_KEY = "inventory_applied", "inventory_pending", "inventory_file_digest"


def to_inventory(meters: list[MeterConfig]) -> Inventory:
    """meters.json's meters as an inventory (ConfigError names a problem the file has)."""
    try:
        return parse_inventory([to_inventory_meter(m) for m in meters])
    except InventoryError as err:
        raise ConfigError(str(err)) from err


def to_inventory_meter(meter: MeterConfig) -> dict:
    """One meters.json meter in the inventory's terms."""
    return {
        "external_id": meter.id,
        "name": meter.name,
        "bacnet_address": meter.bacnet_ip,
        "bacnet_device_id": meter.bacnet_device_id,
        "enabled": meter.enabled,
        "interval_seconds": meter.interval_seconds,
        "points": [point_fields(p) for p in meter.data_points],
    }


def meter_configs_of(inventory: Inventory) -> list[MeterConfig]:
    """An inventory as meters.json's meters (to edit and save)."""
    return [to_meter_config(m) for m in inventory.meters]


def polled_meters_of(inventory: Inventory) -> list[PolledMeter]:
    """An inventory as the collector's meters, sharing the inventory's point objects."""
    return [PolledMeter.of(m) for m in inventory.meters]


def to_meter_config(meter: InventoryMeter) -> MeterConfig:
    """One inventory meter as the collector's MeterConfig."""
    return MeterConfig(
        id=meter.external_id,
        name=meter.name,
        bacnet_device_id=meter.bacnet_device_id,
        bacnet_ip=meter.bacnet_address,
        enabled=meter.enabled,
        interval_seconds=meter.interval_seconds,
        data_points=[p.model_dump() for p in meter.points],
    )


def replace_edited(target: Inventory, old: Inventory, new: Inventory) -> Inventory:
    """target with every meter that differs between old and new set as in new (removed when new lacks it)."""
    meters, before, after = target.by_id(), old.by_id(), new.by_id()
    for external_id in set(before) | set(after):
        if before.get(external_id) != after.get(external_id):
            if external_id in after:
                meters[external_id] = after[external_id]
            else:
                meters.pop(external_id, None)
    return Inventory(meters=tuple(meters.values()))


class EdgeInventory:
    """The inventory state of one edge agent, kept in its database."""

    def __init__(self, engine, meters_file: str) -> None:
        self.engine = engine
        self.meters_file = meters_file
        self.version: int | None = None
        self.running = Inventory()
        self.pending: dict | None = None
        self.history: list[dict] = []
        self.conflicts: list[dict] = []

    def view(self) -> InventoryView:
        """What runs, as the local API and the MCP tool show it (history entries are central's camelCase)."""
        return InventoryView(
            version=self.version, pending=self.pending is not None,
            pending_origin=(self.pending or {}).get("origin"), digest=self.running.digest(),
            meters=list(self.running.meters), conflicts=self.conflicts, history=self.history,
        )  # fmt: skip

    async def load(self) -> Inventory:
        """What to run at start: the pending change, else central's last version, else meters.json (proposed)."""
        applied = await get_state(self.engine, APPLIED_KEY)
        self.pending = await get_state(self.engine, PENDING_KEY)
        if applied:
            self.version = applied["version"]
            self.running = parse_inventory(applied["meters"])
            self.history = applied.get("history") or []
        await self._propose_file_if_edited()
        if self.pending:
            self.running = parse_inventory(self.pending["meters"])
        return self.running

    async def _propose_file_if_edited(self) -> None:
        file_meters = load_meters_file(self.meters_file)
        file_inventory = to_inventory(file_meters)
        digest = file_inventory.digest() if file_meters else None
        last = await get_state(self.engine, FILE_KEY)
        if digest is None or digest == (last or {}).get("digest"):
            return
        old_file = parse_inventory((last or {}).get("meters") or [])
        start = parse_inventory(self.pending["meters"]) if self.pending else self.running
        await self.propose(replace_edited(start, old_file, file_inventory), "file", None)
        await set_state(self.engine, FILE_KEY, {"digest": digest, "meters": file_inventory.document()})
        logger.info("meters.json changed: %d meters proposed to central", len(file_inventory.meters))

    async def propose(self, inventory: Inventory, origin: str, author: str | None) -> Inventory:
        """Run a local change now and keep it to send to central (replaces an unsent one)."""
        self.pending = {
            "base_version": self.version, "origin": origin, "author": author, "meters": inventory.document(),
        }  # fmt: skip
        await set_state(self.engine, PENDING_KEY, self.pending)
        self.running = inventory
        return inventory

    async def note_file_saved(self, inventory: Inventory) -> None:
        """meters.json was rewritten from a local change already proposed: do not propose it again as a file."""
        await set_state(self.engine, FILE_KEY, {"digest": inventory.digest(), "meters": inventory.document()})

    async def sync(self, central: CentralClient) -> bool:
        """Send a pending change, else fetch central's version; True when what runs changed."""
        if sent := self.pending:
            try:
                answer = await central.propose_inventory(sent)
            except ConfigError as err:
                # Central's rules are the ones the edge checked already, so this is rare (e.g. a site-wide
                # limit): say so loudly and go back to the version central has.
                logger.error("%s; the change is dropped and version %s runs again", err, self.version)
                answer = (await central.site_config())["inventory"]
            changed = await self._apply(answer, force=True)
            if self.pending is sent:  # a newer local change made meanwhile stays pending for the next sync
                await self._forget_pending()  # after the answer runs: no moment shows neither
            elif self.pending:
                self.running = parse_inventory(self.pending["meters"])
            return changed
        config = await central.site_config()
        return await self._apply(config["inventory"])

    async def _forget_pending(self) -> None:
        self.pending = None
        await set_state(self.engine, PENDING_KEY, None)

    async def _apply(self, answer: dict, force: bool = False) -> bool:
        version = answer["version"]
        if not force and self.version is not None and version <= self.version:
            return False
        inventory = parse_inventory(answer["meters"])
        changed = inventory != self.running
        self.version, self.running = version, inventory
        self.history = answer.get("history") or self.history
        self.conflicts = answer.get("conflicts") or []
        await set_state(
            self.engine,
            APPLIED_KEY,
            {"version": version, "meters": inventory.document(), "history": self.history},
        )
        for conflict in self.conflicts:
            logger.warning(
                "inventory conflict on %s %s: central kept %s, this site's %s is in the history",
                conflict["meter"], conflict["field"], conflict["kept"], conflict["dropped"],
            )  # fmt: skip
        if changed:
            logger.info("inventory version %d applied: %d meters", version, len(inventory.meters))
        return changed
