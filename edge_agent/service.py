"""EdgeAgent: the on-site agent as one object, and its control API for the local GraphQL API and the MCP server.

Lifecycle: `async with EdgeAgent(settings) as agent:` (or `await agent.start()` / `await agent.stop()`)
migrates the edge database, binds BACnet on BACNET_INTERFACE:BACNET_PORT, runs the site's meter inventory
(edge_agent/inventory.py: central's last version, or a local change not yet accepted, or meters.json at first
start) and runs collection, upload, heartbeat, config sync and housekeeping. The control methods below are the stable interface; every one
is async and returns pydantic models from edge_agent.models.
"""

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from db.clock import utcnow
from db.edge.outbox import Outbox
from db.edge.store import (
    count_dead_letters,
    list_dead_letters,
    list_meters,
    list_sync_log,
    make_edge_engine,
    mark_dead_letters_handled,
    recent_readings,
    replace_meters,
)
from db.migrate import upgrade_aside
from edge_agent import loops, metrics, views
from edge_agent.bacnet.app import (
    add_routes,
    check_port_free,
    loopback_self_addressed,
    make_application,
    with_port,
)
from edge_agent.bacnet.foreign import ForeignRegistration
from edge_agent.central import CentralClient
from edge_agent.collector.cov import CovSubscriptions
from edge_agent.collector.poller import Collector, PollResult
from edge_agent.discovery import discover, parse_range
from edge_agent.edge_alerts import EdgeAlerts, Thresholds
from edge_agent.errors import ConfigError, UploadError
from edge_agent.inventory import EdgeInventory, meter_configs_of, polled_meters_of, to_inventory
from edge_agent.key_file import KeyWatch
from edge_agent.meters import MeterConfig, save_meters_file, validate_meter
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
    TestReadResult,
)
from edge_agent.settings import EdgeSettings
from edge_agent.site_sync import cached_site_config, fetch_site_config, simulated_history
from edge_agent.site_zone import zone_name
from edge_agent.uploader import Uploader

logger = logging.getLogger(__name__)

AGENT_VERSION = "0.1.0"


class EdgeAgent:
    """The edge agent; see the module docstring for its lifecycle and control API."""

    def __init__(self, settings: EdgeSettings | None = None, collect: bool = True, upload: bool = True):
        self.settings = settings or EdgeSettings()
        self.autostart_collection = collect
        self.upload_enabled = upload
        self.engine = make_edge_engine(self.settings.db_url)
        self.outbox = Outbox(self.engine, self.settings.outbox_max_readings, self.settings.outbox_full_policy)
        self.uploader = Uploader(
            self.outbox,
            self.central_factory,
            batch_size=self.settings.batch_size,
            max_retries=self.settings.max_retries,
            pipeline=self.settings.upload_pipeline,
            backoff_base=self.settings.backoff_base_seconds,
            backoff_cap=self.settings.backoff_max_seconds,
            outage_alert_minutes=self.settings.central_unreachable_alert_minutes,
        )
        self.alerts = EdgeAlerts(
            self.engine,
            Thresholds(
                self.settings.central_unreachable_alert_minutes,
                self.settings.meter_unreachable_alert_minutes,
                self.settings.queue_alert_depth,
            ),
        )
        self.inventory = EdgeInventory(self.engine, self.settings.meters_file)
        self.collector: Collector | None = None
        self.cov: CovSubscriptions | None = None
        self.app = None
        self.foreign: ForeignRegistration | None = None
        self.collecting = asyncio.Event()
        self.sync_now = asyncio.Event()
        self.config_now = asyncio.Event()
        self.collection_interval = self.settings.collection_interval_seconds
        self.site_name: str | None = None
        self.site_timezone: str | None = None  # siteConfig's zone (cached with it); None: not heard yet, UTC
        self.simulated: dict | None = (
            None  # {"start", "end"} of demo history in the outbox (meterit/demo_history.py)
        )
        self.last_heartbeat_at: datetime | None = None
        self._tasks: list[asyncio.Task] = []
        # a rotated key written to CLIENT_API_KEY_FILE is used from the next request on, without a restart
        self.key_watch = KeyWatch(self.settings)

    def central_factory(self) -> CentralClient:
        """A new client to central (used as `async with agent.central_factory() as central`)."""
        s = self.settings
        return CentralClient(
            s.client_api_url, self.key_watch.current(), s.client_ca_file, s.http_timeout_seconds
        )

    # ---- lifecycle -------------------------------------------------------------------------------

    async def start(self, bacnet: bool = True, loops_on: bool = True) -> None:
        """Prepare the database and (unless bacnet=False) BACnet, load the configuration, start the loops."""
        s = self.settings
        await upgrade_aside("edge", s.db_url)
        depth = await self.outbox.open()
        await self.uploader.outage.load()
        await self.alerts.load()
        if bacnet:
            check_port_free(with_port(s.bacnet_interface, s.bacnet_port))
            self.app = make_application(
                with_port(s.bacnet_interface, s.bacnet_port),
                s.bacnet_device_id,
                "MeterIT edge agent",
                apdu_timeout_ms=int(s.bacnet_timeout_seconds * 1000),
                apdu_retries=0,
                foreign=s.bacnet_bbmd_address,
                ttl=s.bacnet_bbmd_ttl,
            )
            if s.bacnet_bbmd_address:
                self.foreign = ForeignRegistration(self.app, s.bacnet_bbmd_address, s.bacnet_bbmd_ttl)
            await add_routes(self.app, s.routes)
        self.collector = Collector(
            self.app,
            self.outbox,
            s.bacnet_timeout_seconds,
            s.bacnet_max_concurrency_per_device,
            s.bacnet_max_concurrent_devices,
            max_timeout=s.bacnet_max_timeout_seconds,
            retries=s.bacnet_retries,
            reprobe_after=timedelta(minutes=s.bacnet_reprobe_minutes),
        )
        if self.app:
            self.cov = CovSubscriptions(self.app, self.outbox, self.collector.unit_of)
        await self._load_config()
        logger.info(
            "edge agent started: %d meters, %d readings queued, BACnet on %s:%d, database %s",
            len(self.collector.meters),
            depth,
            s.bacnet_interface,
            s.bacnet_port,
            self.engine.url.render_as_string(hide_password=True),
        )
        if not loops_on:
            return
        if self.autostart_collection and bacnet:
            self.collecting.set()
        self._tasks = [asyncio.create_task(self.collector.run(self.collection_interval, self.collecting))]
        self._tasks.append(asyncio.create_task(loops.housekeeping_loop(self)))
        if self.foreign:
            self._tasks.append(asyncio.create_task(self.foreign.watch()))
        if self.upload_enabled:
            for loop in (loops.sync_loop, loops.heartbeat_loop, loops.config_loop):
                self._tasks.append(asyncio.create_task(loop(self)))

    async def _load_config(self) -> None:
        """Run the inventory kept on site at once, then bring it up to date with central when reachable."""
        await self.inventory.load()
        self.simulated = await simulated_history(self.engine)
        await self.apply_config(await cached_site_config(self))
        if self.upload_enabled and self.settings.client_api_key:
            try:
                await self.sync_config()
            except UploadError as err:
                logger.warning(
                    "central not reached at start (%s): running inventory version %s",
                    err,
                    self.inventory.version,
                )

    async def sync_config(self) -> None:
        """Send a pending inventory change, download siteConfig, apply what is newer (no restart)."""
        async with self.central_factory() as central:
            await self.inventory.sync(central)
            config = await fetch_site_config(self, central)
        await self.apply_config(config)

    async def apply_config(self, site_config: dict | None) -> None:
        """Run the current inventory and central's site settings; the outbox is never touched."""
        meters = polled_meters_of(self.inventory.running)
        clashes = loopback_self_addressed([m.address for m in meters if m.enabled], self.settings.bacnet_port)
        if clashes and self.app:
            logger.error(
                "meters %s are on loopback port %d, the agent's own BACNET_PORT: bacpypes3 takes them for the "
                "agent itself and they cannot be read. Set BACNET_PORT to another port (e.g. 47809).",
                ", ".join(clashes),
                self.settings.bacnet_port,
            )
        self.collector.set_meters(meters)
        if self.cov:
            self.cov.sync(meters)
        await replace_meters(self.engine, [m.to_row() for m in meters], "central" if site_config else "file")
        if site_config:
            self.site_name = site_config.get("siteName")
            self.site_timezone = self.alerts.zone = zone_name(site_config.get("timezone"))
            interval = site_config.get("collectionIntervalSeconds")
            # COLLECTION_INTERVAL_SECONDS set on site wins over central's per-site value.
            if "collection_interval_seconds" in self.settings.model_fields_set:
                interval = None
            if interval and float(interval) > 0 and float(interval) != self.collection_interval:
                self.collection_interval = float(interval)
                self._restart_collection_loop()

    def _restart_collection_loop(self) -> None:
        if self._tasks:
            self._tasks[0].cancel()
            self._tasks[0] = asyncio.create_task(
                self.collector.run(self.collection_interval, self.collecting)
            )

    async def stop(self) -> None:
        """Stop every loop and release the socket and the database."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        if self.collector:
            await self.collector.settle(cancel=True)
        await self.uploader.outage.save()
        await self.alerts.save()
        if self.cov:
            await self.cov.stop()
        if self.app:
            self.app.close()
            self.app = None
            await asyncio.sleep(0)  # the transports close their sockets on the next loop iteration
        await self.engine.dispose()

    async def __aenter__(self) -> "EdgeAgent":
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    def mark_heartbeat(self) -> None:
        """Remember that central took a heartbeat."""
        self.last_heartbeat_at = utcnow()

    async def refresh_gauges(self) -> None:
        """Update queue gauges from the database."""
        metrics.QUEUE_DEPTH.set(await self.outbox.depth())
        metrics.OLDEST_QUEUED_AGE.set(await self.outbox.oldest_age_seconds() or 0)
        if self.uploader.success_rate is not None:
            metrics.SYNC_SUCCESS_RATE.set(self.uploader.success_rate)

    # ---- control API -----------------------------------------------------------------------------

    async def status(self) -> AgentStatus:
        """Collection, queue and central link state."""
        last_sync = await list_sync_log(self.engine, 1)
        outage = self.uploader.outage
        return AgentStatus(
            agent_version=AGENT_VERSION,
            collecting=self.collecting.is_set(),
            collection_interval_seconds=self.collection_interval,
            meters_total=len(self.collector.meters),
            meters_reachable=self.collector.reachable_count(),
            collection_success_rate=self.collector.success_rate,
            queue_depth=await self.outbox.depth(),
            queue_head_attempts=await self.outbox.head_retries(),
            oldest_queued_age_seconds=await self.outbox.oldest_age_seconds(),
            outbox_full=self.outbox.full,
            outbox_full_policy=self.outbox.policy,
            dead_letter_count=await count_dead_letters(self.engine),
            central_state=self.uploader.state,
            central_detail=self.uploader.state_detail,
            central_unreachable_seconds=self.uploader.unreachable_seconds,
            central_outage_since=outage.since,
            central_outage_alerting=outage.alerting,
            sync_success_rate=self.uploader.success_rate,
            last_sync_at=last_sync[0].started_at if last_sync else None,
            last_heartbeat_at=self.last_heartbeat_at,
            site_name=self.site_name,
            site_timezone=self.site_timezone,
            simulated_from=_at(self.simulated, "start"),
            simulated_until=_at(self.simulated, "end"),
            bbmd_address=self.settings.bacnet_bbmd_address,
            bbmd_state=self.foreign.state if self.foreign else None,
            bbmd_registered_at=self.foreign.registered_at if self.foreign else None,
        )

    async def check_alerts(self) -> None:
        """Open and end the edge's own alerts from the central link, the meters and the queue, and store them."""
        self.alerts.evaluate(self.uploader.outage, self.collector.health.values(), await self.outbox.depth())
        for kind in ("central_unreachable", "meter_unreachable", "edge_queue"):
            metrics.ALERTS_OPEN.labels(kind).set(sum(1 for a in self.alerts.open.values() if a.kind == kind))
        await self.alerts.save()

    async def edge_alerts(self) -> list[EdgeAlertEntry]:
        """The edge's own alerts: open ones (oldest first), then ended ones (newest first)."""
        return [EdgeAlertEntry.model_validate(a, from_attributes=True) for a in self.alerts.current()]

    async def inventory_view(self) -> InventoryView:
        """The site's meter inventory as it runs here, with central's history."""
        return self.inventory.view()

    async def meters(self) -> list[MeterStatus]:
        """Every configured meter with its reachability, last error and last reading time."""
        return views.meter_statuses(
            await list_meters(self.engine), self.collector.health, self.collector.profiles
        )

    async def recent_readings(
        self, meter: str, point: str | None = None, since: datetime | None = None
    ) -> list[ReadingRow]:
        """Locally kept readings of a meter (one point or all) since a time (default: last 24 h)."""
        rows = await recent_readings(self.engine, meter, point, since)
        return [ReadingRow.model_validate(r, from_attributes=True) for r in rows]

    async def sync_log(self, limit: int = 50) -> list[SyncLogEntry]:
        """Latest upload attempts, newest first."""
        return [
            SyncLogEntry.model_validate(r, from_attributes=True)
            for r in await list_sync_log(self.engine, limit)
        ]

    async def dead_letters(self, limit: int = 100) -> list[DeadLetterEntry]:
        """Readings central rejected (unhandled), newest first."""
        rows = await list_dead_letters(self.engine, limit)
        return [DeadLetterEntry.model_validate(r, from_attributes=True) for r in rows]

    async def handle_dead_letters(self, ids: list[int]) -> int:
        """Mark dead letters as dealt with by the technician; returns how many were still open."""
        done = await mark_dead_letters_handled(self.engine, ids)
        logger.info("%d dead letters marked handled", done)
        return done

    async def start_collection(self) -> AgentStatus:
        """Resume polling meters."""
        self.collecting.set()
        logger.info("collection started")
        return await self.status()

    async def stop_collection(self) -> AgentStatus:
        """Pause polling meters; returns once a poll in progress has finished and been queued."""
        self.collecting.clear()
        async with self.collector.poll_lock:
            pass
        await self.collector.settle()  # a slow meter's answer of the last round is queued too
        logger.info("collection stopped")
        return await self.status()

    async def poll_now(self) -> PollResult:
        """Poll every meter once, now, whatever the schedule."""
        return await self.collector.poll_once()

    async def trigger_sync(self) -> SyncSummary:
        """Upload now (also retries after a 401, e.g. once the key is fixed); returns the cycle's totals."""
        result = await self.uploader.sync_once(forced=True)
        await self.refresh_gauges()
        return SyncSummary(
            outcome=result.outcome,
            batches=result.batches,
            acknowledged=result.acknowledged,
            new=result.new,
            duplicates=result.duplicates,
            rejected=result.rejected,
            queue_depth=await self.outbox.depth(),
            errors=result.errors,
        )

    async def discover_devices(
        self,
        address_range: str | None = None,
        low: int | None = None,
        high: int | None = None,
        broadcast: bool | None = None,
        network: int | None = None,
    ) -> list[DiscoveredDevice]:
        """Devices answering Who-Is, with their analog objects; device instances limited to low..high.

        With a range ('127.0.0.10-127.0.0.20'): unicast Who-Is to each address (plus the broadcast when asked).
        Without: directed Who-Is to every configured meter address, and a broadcast Who-Is to
        BACNET_BROADCAST_ADDRESS (port 47808 unless it names one; also through the BBMD when registered)
        unless broadcast is False. With `network`: also a Who-Is to every device of that BACnet network.
        """
        if (low is None) != (high is None) or (low is not None and not 0 <= low <= high <= 4_194_303):
            raise ConfigError("a Who-Is instance range needs both ends, 0 <= low <= high <= 4194303")
        if address_range:
            addresses = parse_range(address_range)
        else:
            addresses = sorted({m.address for m in self.collector.meters.values()})
        wanted = broadcast if broadcast is not None else not address_range
        broadcasts = [self.settings.who_is_broadcast] if wanted else []
        if wanted and self.foreign:
            broadcasts.append("*")  # a local broadcast, which a foreign device hands to its BBMD
        if network is not None:
            if not 1 <= network <= 65534:
                raise ConfigError("a BACnet network number is 1..65534")
            broadcasts.append(f"{network}:*")  # every device of that network, through its router
        timeout = self.settings.bacnet_timeout_seconds
        return await discover(self.app, addresses, timeout, broadcasts, low, high)

    async def save_meter_config(
        self, meters: list[MeterConfig | dict], write_file: bool = True, origin: str = "edge_dashboard"
    ) -> list[MeterStatus]:
        """Replace the site's meters (validated): run them now, propose them to central, write meters.json."""
        configs = [validate_meter(m) for m in meters]
        inventory = to_inventory(configs)  # the same rules central applies: refused here, nothing changes
        await self.inventory.propose(inventory, origin, None)
        if write_file:
            save_meters_file(self.settings.meters_file, configs)
            await self.inventory.note_file_saved(inventory)
        await self.apply_config(await cached_site_config(self))
        self.config_now.set()  # propose it to central at once instead of at the next refresh
        return await self.meters()

    async def save_meter(
        self, meter: MeterConfig | dict, origin: str = "edge_dashboard"
    ) -> list[MeterStatus]:
        """Add or replace one meter of the running inventory (validated), as save_meter_config does for all."""
        meter_id = meter.id if isinstance(meter, MeterConfig) else meter.get("id")
        others = [m for m in meter_configs_of(self.inventory.running) if m.id != meter_id]
        return await self.save_meter_config([*others, meter], origin=origin)

    async def test_read(
        self, meter: str | None = None, address: str | None = None, points: list[dict] | None = None
    ) -> TestReadResult:
        """Read a configured meter (or an address with given points) once, without queueing anything."""
        return await views.test_read(self.collector, meter, address, points)


def _at(span: dict | None, key: str) -> datetime | None:
    return datetime.fromisoformat(span[key]) if span and span.get(key) else None
