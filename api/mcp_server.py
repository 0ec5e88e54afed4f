"""The central MCP server (`meterit mcp client`): fleet data, alerts, rules, reports and email for a model.

Tools call the same service layer as the GraphQL API. Every call is authorised: over stdio by
METERIT_MCP_TOKEN (a user's JWT from the `login` mutation, or the admin key METERIT_MCP_ADMIN_KEY);
over streamable HTTP by the request's `Authorization: Bearer <token>` header only. Viewers may read;
changing rules and sending email need the admin role.
"""

import hmac
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api import mcp_models as out
from api import reports
from api.alerts import service as rules_service
from api.alerts.errors import EmailError
from api.alerts.messages import plain_email
from api.alerts.notifier import EmailNotifier
from api.alerts.settings import AlertSettings, get_alert_settings
from api.auth import bearer_token, user_from_token
from api.errors import ApiError, AuthError
from api.report_formats import to_csv, to_markdown
from api.services import alerts as alerts_service
from api.services import inventory as inventory_service
from api.services import meters as meters_service
from api.services import readings as readings_service
from api.services import sites as sites_service
from api.settings import CentralSettings
from causes import Cause, text
from db.alert_store import DEFAULT_RULES, open_alert_counts
from db.engine import session_scope
from db.errors import DbError
from db.inventory import InventoryPoint

logger = logging.getLogger(__name__)
INSTRUCTIONS = (
    "MeterIT central: energy meters at many sites. Start with get_site_status, then query_meters for a "
    "site's meters and query_readings for one point's values (query_energy for consumption per 15 min, hour, day or month) (ids come from those answers). list_alerts "
    "shows what is wrong; generate_report summarises energy per day."
)


@dataclass(frozen=True)
class Caller:
    """Who a tool call acts for."""

    name: str
    role: str


def _rule(rule) -> out.RuleInfo:
    unit = DEFAULT_RULES[rule.kind].unit if rule.kind in DEFAULT_RULES else ""
    fields = rule.model_dump(
        include={"id", "kind", "site_id", "enabled", "threshold", "severity", "pending_seconds"}
    )
    return out.RuleInfo(**fields, threshold_unit=unit, recipients=list(rule.recipients or []))


def build_central_mcp(
    settings: CentralSettings,
    sessions: async_sessionmaker[AsyncSession],
    *,
    token: str | None = None,
    admin_key: str | None = None,
    alert_settings: AlertSettings | None = None,
    notifier: EmailNotifier | None = None,
) -> MCPServer:
    """The server with its nine tools; token is the stdio credential, admin_key the admin credential."""
    server = MCPServer("meterit-central", instructions=INSTRUCTIONS)
    alert_settings = alert_settings or get_alert_settings()
    notifier = notifier or EmailNotifier(settings, alert_settings)

    async def run(ctx: Context, work, admin: bool = False):
        request = getattr(ctx.request_context, "request", None) if ctx else None
        credential = bearer_token(request.headers.get("authorization")) if request is not None else token
        if not credential:
            raise ToolError(text(Cause.MCP_TOKEN_MISSING))
        try:
            async with session_scope(sessions) as session:
                if admin_key and hmac.compare_digest(credential.encode(), admin_key.encode()):
                    caller = Caller("admin key", "admin")
                else:
                    user = await user_from_token(session, settings, credential)
                    caller = Caller(user.email, user.role)
                if admin and caller.role != "admin":
                    raise ToolError(f"{text(Cause.ADMIN_REQUIRED)} ({caller.name} is {caller.role})")
                return await work(session, caller)
        except AuthError as err:
            raise ToolError(f"not authorised: {err}") from err
        except (ApiError, DbError, ValueError) as err:
            raise ToolError(str(err)) from err

    @server.tool()
    async def query_meters(ctx: Context, site_id: int | None = None) -> out.MetersResult:
        """Meters of one site (or every site) with reachability, last error and each point's newest value."""

        async def work(session, _caller):
            rows = await meters_service.meters_with_points(session, site_id)
            meters = []
            for meter, points in rows:
                infos = [
                    out.PointInfo(
                        name=v.point.name,
                        unit=v.point.unit,
                        cumulative=v.point.cumulative,
                        last_value=v.last_value,
                        last_ts=v.last_ts,
                    )
                    for v in points
                ]
                fields = {
                    "id",
                    "site_id",
                    "external_id",
                    "name",
                    "enabled",
                    "reachable",
                    "last_error",
                    "last_seen_at",
                }
                meters.append(out.MeterInfo(**meter.model_dump(include=fields), points=infos))
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
        """Readings of one data point (e.g. total_kwh) in [start, end) (ISO-8601 with zone), raw or averaged."""

        async def work(session, _caller):
            rows, cursor = await readings_service.readings(
                session, meter_id, point, start, end, resolution, limit, after
            )
            items = [out.ReadingItem(**r.__dict__) for r in rows]
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

        async def work(session, _caller):
            rows, cursor, facts = await readings_service.energy(
                session, meter_id, point, start, end, resolution, limit, after
            )
            items = [out.EnergyItem(**{k: getattr(r, k) for k in out.EnergyItem.model_fields}) for r in rows]
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

    @server.tool()
    async def get_site_status(ctx: Context, site_id: int | None = None) -> out.SiteStatusResult:
        """Live status of one site or all: online/degraded/offline, last heartbeat, queue, meters, today's kWh."""

        async def work(session, _caller):
            rows = (
                [await sites_service.get_site(session, site_id)]
                if site_id
                else await sites_service.list_sites(session)
            )
            open_counts = await open_alert_counts(session)
            sites = []
            for site, (total, reachable) in rows:
                sites.append(
                    out.SiteStatus(
                        **site.model_dump(
                            include={
                                "id",
                                "name",
                                "timezone",
                                "status",
                                "is_active",
                                "maintenance",
                                "last_heartbeat_at",
                            }
                        ),
                        queue_depth=(site.health or {}).get("queue_depth"),
                        meters_total=total,
                        meters_reachable=reachable,
                        today_energy_kwh=await sites_service.today_energy(session, site),
                        open_alerts=open_counts.get(site.id, 0),
                    )
                )
            return out.SiteStatusResult(sites=sites)

        return await run(ctx, work)

    @server.tool()
    async def list_alerts(
        ctx: Context,
        status: Literal["open", "resolved", "all"] = "open",
        site_id: int | None = None,
        limit: int = 100,
    ) -> out.AlertsResult:
        """Alerts (open by default), newest first, with site names and open/resolved/acknowledged times."""

        async def work(session, _caller):
            rows = await alerts_service.list_alerts(session, status, site_id, limit)
            fields = set(out.AlertInfo.model_fields) - {"site_name"}
            return out.AlertsResult(
                alerts=[out.AlertInfo(**a.model_dump(include=fields), site_name=name) for a, name in rows]
            )

        return await run(ctx, work)

    @server.tool()
    async def configure_alert_rules(
        ctx: Context,
        rule_id: int | None = None,
        kind: str | None = None,
        site_id: int | None = None,
        enabled: bool | None = None,
        threshold: float | None = None,
        severity: Literal["info", "warning", "critical"] | None = None,
        pending_seconds: float | None = None,
        recipients: list[str] | None = None,
    ) -> out.RulesResult:
        """List alert rules (no arguments) or change one: by rule_id, or by kind (+ site_id for a site override,
        created when missing). Kinds: heartbeat_missing, meter_unreachable, edge_queue, central_unreachable,
        api_error_rate, database_unreachable. Changing needs the admin role."""
        fields = {"enabled": enabled, "threshold": threshold, "severity": severity}
        fields |= {"pending_seconds": pending_seconds, "recipients": recipients}
        changing = rule_id is not None or kind is not None

        async def work(session, _caller):
            changed = None
            if rule_id is not None:
                changed = await rules_service.update_rule(session, rule_id, **fields)
            elif kind is not None:
                rules = await rules_service.list_rules(session, site_id)
                match = next((r for r in rules if r.kind == kind and r.site_id == site_id), None)
                if match is not None:
                    changed = await rules_service.update_rule(session, match.id, **fields)
                else:
                    given = {k: v for k, v in fields.items() if v is not None}
                    changed = await rules_service.create_rule(session, kind, site_id, **given)
            rules = await rules_service.list_rules(session, site_id)
            return out.RulesResult(
                changed=_rule(changed) if changed else None, rules=[_rule(r) for r in rules]
            )

        return await run(ctx, work, admin=changing)

    @server.tool()
    async def send_alert_email(
        ctx: Context, subject: str, body: str, recipients: list[str] | None = None
    ) -> out.EmailResult:
        """Email a message now (to the given addresses, else ALERT_RECIPIENTS). Needs the admin role."""

        async def work(session, caller):
            to = rules_service.check_recipients(recipients or alert_settings.recipient_list)
            if not to:
                raise ToolError("no recipients: pass recipients or set ALERT_RECIPIENTS")
            if not subject.strip() or len(subject) > 200 or "\n" in subject:
                raise ToolError("subject must be one line of 1 to 200 characters")
            try:
                await notifier.deliver(plain_email(subject.strip(), body, settings.smtp_from, to))
            except EmailError as err:
                raise ToolError(f"email not sent: {err}") from err
            logger.info("MCP email %r sent to %s for %s", subject, ", ".join(to), caller.name)
            return out.EmailResult(sent=True, recipients=to, subject=subject.strip())

        return await run(ctx, work, admin=True)

    @server.tool()
    async def get_site_inventory(ctx: Context, site_id: int, history: int = 20) -> out.SiteInventoryResult:
        """A site's meter inventory: its version, every meter with its BACnet address, points (object type,
        instance, unit, cumulative), interval, and the history of changes (origin, author, what changed)."""

        async def work(session, _caller):
            return _inventory(await inventory_service.site_inventory(session, site_id, history))

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
        """Change (or add) one meter of a site's inventory (admins); fields left out keep their value, points
        replace the list. The edge applies the new version at its next sync."""

        async def work(session, caller):
            fields = {"name": name, "bacnet_address": bacnet_address, "bacnet_device_id": bacnet_device_id,
                      "enabled": enabled, "interval_seconds": interval_seconds}  # fmt: skip
            point_list = None if points is None else [p.model_dump() for p in points]
            found = await inventory_service.edit_meter(
                session, site_id, external_id, fields, point_list, "mcp", caller.name
            )
            return _inventory(found)

        return await run(ctx, work, admin=True)

    @server.tool()
    async def generate_report(
        ctx: Context,
        start: datetime,
        end: datetime,
        site_ids: list[int] | None = None,
        resolution: Literal["DAY", "HOUR"] = "DAY",
    ) -> out.ReportResult:
        """Energy per site and meter per local day (or UTC hour) in [start, end), from cumulative registers
        (correct across counter resets), peak power and when, data completeness; also as CSV and Markdown."""

        async def work(session, _caller):
            report = await reports.generate_report(session, site_ids, start, end, resolution)
            data = out.ReportResult.model_validate(
                {**report.__dict__, "sites": [_site(s) for s in report.sites], "csv": to_csv(report)}
                | {"markdown": to_markdown(report)}
            )
            return data

        return await run(ctx, work)

    return server


def _inventory(found: inventory_service.SiteInventory) -> out.SiteInventoryResult:
    return out.SiteInventoryResult(
        site_id=found.site_id,
        version=found.version,
        digest=found.inventory.digest(),
        meters=list(found.inventory.meters),
        history=[
            out.InventoryChangeInfo(
                version=row.version, origin=row.origin, author=row.author, created_at=row.created_at,
                changes=list(row.changes or []), conflicts=list(row.conflicts or []),
            )
            for row in found.history
        ],
    )  # fmt: skip


def _site(site: reports.SiteReport) -> dict:
    meters = [
        {**m.__dict__, "completeness": m.completeness, "periods": [p.__dict__ for p in m.periods]}
        for m in site.meters
    ]
    return {
        **site.__dict__,
        "completeness": site.completeness,
        "periods": [p.__dict__ for p in site.periods],
        "meters": meters,
    }
