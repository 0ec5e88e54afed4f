"""The local GraphQL schema: queries, mutations and subscriptions over the EdgeAgent control service."""

import asyncio
import ipaddress
import logging
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.permission import BasePermission
from strawberry.types import ExecutionContext

from causes import Cause, text
from db.clock import utcnow
from edge_agent.discovery import to_meter_configs
from edge_agent.errors import EdgeError
from edge_agent.local_api.auth import LocalAuth
from edge_agent.local_api.errors import BadRequest, LocalApiError
from edge_agent.local_api.inputs import LoginFailed, LoginResult, LoginSuccess, MeterConfigInput
from edge_agent.local_api.inventory_types import SiteInventory
from edge_agent.local_api.live import AgentView, Feed
from edge_agent.local_api.types import (
    AgentStatus,
    DeadLetter,
    DiscoveredDevice,
    EdgeAlert,
    LiveValue,
    Meter,
    Reading,
    SyncLogEntry,
    SyncSummary,
    TestReadResult,
)

logger = logging.getLogger(__name__)

MAX_CHART_POINTS = 2000


@dataclass
class Context:
    """Per-request context: the agent's view, the subscription feed, and whether the caller is logged in."""

    view: AgentView
    feed: Feed
    auth: LocalAuth
    authenticated: bool
    request: Any = None
    response: Any = None
    connection_params: Any = None


class IsAuthenticated(BasePermission):
    """Allows everyone when no password is set, else only holders of a valid token."""

    message = text(Cause.NOT_AUTHENTICATED)

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        """Whether the context says the caller is logged in."""
        return info.context.authenticated


AUTHED = [IsAuthenticated]


def _ctx(info: strawberry.Info) -> Context:
    return info.context


def _thin(rows: list, max_points: int) -> list:
    """Every n-th row so a chart gets at most max_points (the newest row is always kept)."""
    if max_points <= 0 or len(rows) <= max_points:
        return rows
    step = -(-len(rows) // max_points)
    thinned = rows[::step]
    if thinned[-1] is not rows[-1]:
        thinned.append(rows[-1])
    return thinned


def default_discovery_range(meters: list, interface: str) -> str:
    """The span of the configured meters' addresses, else the first 254 hosts of the BACnet interface's /24."""
    addresses = []
    for meter in meters:
        host = (meter.bacnet_address or "").split(":")[0]
        try:
            addresses.append(ipaddress.ip_address(host))
        except ValueError:
            continue
    if addresses:
        low, high = min(addresses), max(addresses)
        return str(low) if low == high else f"{low}-{high}"
    prefix = interface.split("/")[0].rsplit(".", 1)[0]
    return f"{prefix}.1-{prefix}.254"


@strawberry.type
class Query:
    """What the on-site dashboard reads."""

    @strawberry.field(permission_classes=AUTHED)
    async def status(self, info: strawberry.Info) -> AgentStatus:
        """Collection, queue, central link and last sync."""
        return await _ctx(info).view.status()

    @strawberry.field(permission_classes=AUTHED)
    async def alerts(self, info: strawberry.Info, include_ended: bool = True) -> list[EdgeAlert]:
        """The edge's own alerts, decided on site (also while central is down): open first, then ended."""
        found = await _ctx(info).view.alerts()
        return found if include_ended else [a for a in found if a.ended_at is None]

    @strawberry.field(permission_classes=AUTHED)
    async def meters(self, info: strawberry.Info, external_id: str | None = None) -> list[Meter]:
        """Every meter (or one) with reachability, last error and latest values."""
        return await _ctx(info).view.meters(external_id)

    @strawberry.field(permission_classes=AUTHED)
    async def readings(
        self,
        info: strawberry.Info,
        meter: str,
        point: str | None = None,
        hours: float = 24.0,
        max_points: int = 0,
    ) -> list[Reading]:
        """Readings kept locally for one meter (one point or all), oldest first; max_points thins a chart."""
        since = utcnow() - timedelta(hours=min(max(hours, 0.0), 24.0))
        rows = await _ctx(info).view.agent.recent_readings(meter, point, since)
        return [Reading.from_model(r) for r in _thin(rows, min(max_points, MAX_CHART_POINTS) or 0)]

    @strawberry.field(permission_classes=AUTHED)
    async def sync_log(self, info: strawberry.Info, limit: int = 50) -> list[SyncLogEntry]:
        """Latest upload attempts, newest first."""
        return [SyncLogEntry.from_model(r) for r in await _ctx(info).view.agent.sync_log(min(limit, 500))]

    @strawberry.field(permission_classes=AUTHED)
    async def dead_letters(self, info: strawberry.Info, limit: int = 100) -> list[DeadLetter]:
        """Readings central rejected, with reasons, newest first."""
        return [DeadLetter.from_model(r) for r in await _ctx(info).view.agent.dead_letters(min(limit, 1000))]

    @strawberry.field(permission_classes=AUTHED)
    def inventory(self, info: strawberry.Info) -> SiteInventory:
        """The meter inventory this agent runs: version, a change not yet accepted by central, history."""
        return SiteInventory.from_model(_ctx(info).view.agent.inventory.view())

    @strawberry.field(permission_classes=AUTHED)
    async def discovery_range(self, info: strawberry.Info) -> str:
        """The address range Discover searches by default."""
        agent = _ctx(info).view.agent
        return default_discovery_range(await agent.meters(), agent.settings.bacnet_interface)

    @strawberry.field
    def login_required(self, info: strawberry.Info) -> bool:
        """Whether this API wants a login (a password is configured)."""
        return _ctx(info).auth.required


def _configured_by_address(meters: list) -> dict[str, str]:
    return {(m.bacnet_address or "").split(":")[0]: m.external_id for m in meters}


@strawberry.type
class Mutation:
    """What the technician can do on site."""

    @strawberry.mutation
    async def login(self, info: strawberry.Info, password: str) -> LoginResult:
        """Trade the local password for a token."""
        auth = _ctx(info).auth
        if not auth.required:
            return LoginFailed(reason="no login needed")
        if not await asyncio.to_thread(auth.matches, password):  # argon2: off the agent's event loop
            return LoginFailed(reason="wrong password")
        token, expires = auth.issue()
        return LoginSuccess(token=token, expires_at=expires)

    @strawberry.mutation(permission_classes=AUTHED)
    async def start_collection(self, info: strawberry.Info) -> AgentStatus:
        """Resume polling meters."""
        await _ctx(info).view.agent.start_collection()
        return await _ctx(info).view.status()

    @strawberry.mutation(permission_classes=AUTHED)
    async def stop_collection(self, info: strawberry.Info) -> AgentStatus:
        """Pause polling meters."""
        await _ctx(info).view.agent.stop_collection()
        return await _ctx(info).view.status()

    @strawberry.mutation(permission_classes=AUTHED)
    async def trigger_sync(self, info: strawberry.Info) -> SyncSummary:
        """Upload the queue now and report the outcome."""
        return SyncSummary.from_model(await _ctx(info).view.agent.trigger_sync())

    @strawberry.mutation(permission_classes=AUTHED)
    async def mark_dead_letters_handled(self, info: strawberry.Info, ids: list[int]) -> int:
        """Mark dead letters as dealt with: they leave deadLetters and the count; returns how many changed."""
        return await _ctx(info).view.agent.handle_dead_letters(ids[:10_000])

    @strawberry.mutation(permission_classes=AUTHED)
    async def discover_devices(
        self, info: strawberry.Info, address_range: str | None = None
    ) -> list[DiscoveredDevice]:
        """Who-Is over an address range (default: discoveryRange), with each device's objects."""
        agent = _ctx(info).view.agent
        meters = await agent.meters()
        span = address_range or default_discovery_range(meters, agent.settings.bacnet_interface)
        configured = _configured_by_address(meters)
        devices = await agent.discover_devices(span)
        return [DiscoveredDevice.from_model(d, configured.get(d.address)) for d in devices]

    @strawberry.mutation(permission_classes=AUTHED)
    async def save_meter_config(self, info: strawberry.Info, meter: MeterConfigInput) -> list[Meter]:
        """Add or replace one meter in the configuration; polling uses it at once."""
        await _ctx(info).view.agent.save_meter(strawberry.asdict(meter), "edge_dashboard")
        return await _ctx(info).view.meters()

    @strawberry.mutation(permission_classes=AUTHED)
    async def add_discovered_device(
        self, info: strawberry.Info, address: str, meter_id: str | None = None, name: str | None = None
    ) -> list[Meter]:
        """Discover the device at one address again and add all its points to the configuration."""
        agent = _ctx(info).view.agent
        devices = await agent.discover_devices(address)
        if not devices:
            raise BadRequest(f"no BACnet device answers at {address}")
        config = to_meter_configs(devices[:1])[0]
        config = config.model_copy(update={"id": meter_id or config.id, "name": name or config.name})
        await agent.save_meter(config, "discovery")
        return await _ctx(info).view.meters()

    @strawberry.mutation(permission_classes=AUTHED)
    async def test_read(
        self,
        info: strawberry.Info,
        meter: str | None = None,
        address: str | None = None,
        point: str | None = None,
    ) -> TestReadResult:
        """Read a configured meter (or an address) once without queueing; `point` keeps just that point."""
        result = await _ctx(info).view.agent.test_read(meter=meter, address=address)
        if point:
            if (
                result.ok
                and not any(v.name == point for v in result.values)
                and point not in result.point_errors
            ):
                raise BadRequest(f"meter {meter or address} has no point {point!r}")
            result = result.model_copy(
                update={
                    "values": [v for v in result.values if v.name == point],
                    "point_errors": {k: v for k, v in result.point_errors.items() if k == point},
                }
            )
        return TestReadResult.from_model(result)


@strawberry.type
class Subscription:
    """Live updates for the dashboard."""

    @strawberry.subscription(permission_classes=AUTHED)
    async def live_values(
        self, info: strawberry.Info, meter: str | None = None
    ) -> AsyncGenerator[list[LiveValue], None]:
        """Each batch of newly collected values (optionally of one meter)."""
        async for values in _ctx(info).feed.events("values"):
            chosen = [v for v in values if meter is None or v.meter_external_id == meter]
            if chosen:
                yield chosen

    @strawberry.subscription(permission_classes=AUTHED)
    async def status_changed(self, info: strawberry.Info) -> AsyncGenerator[AgentStatus, None]:
        """The status now, then on every change (and every few seconds so ages stay fresh)."""
        yield await _ctx(info).view.status()
        async for status in _ctx(info).feed.events("status"):
            yield status


class LocalSchema(strawberry.Schema):
    """The schema, logging expected refusals in one line instead of a traceback."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log unexpected errors with their traceback, expected ones briefly."""
        for error in errors:
            original = error.original_error
            # a GraphQLError inside is the caller's variables failing the schema (e.g. a required field left out)
            if original is None or isinstance(
                original, EdgeError | LocalApiError | ValueError | GraphQLError
            ):
                logger.info("local API refused: %s", error.message)
            else:
                logger.error("local API error: %s", error.message, exc_info=original)


schema = LocalSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    extensions=[
        lambda: QueryDepthLimiter(max_depth=8),
        lambda: MaxTokensLimiter(max_token_count=2000),
        lambda: MaxAliasesLimiter(max_alias_count=20),
    ],
)
