"""MCP tools of alerts: list_alerts, configure_alert_rules, send_alert_email."""

import logging
from typing import Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from api.alerts import service as rules_service
from api.alerts.errors import EmailError
from api.alerts.messages import plain_email
from api.alerts.notifier import EmailNotifier
from api.alerts.settings import AlertSettings
from api.mcp import models as out
from api.mcp.runner import ToolRunner
from api.services import alerts as alerts_service

logger = logging.getLogger(__name__)


def register_alert_tools(
    server: MCPServer, run: ToolRunner, alert_settings: AlertSettings, notifier: EmailNotifier
) -> None:
    """Add the tools that list alerts, change rules and send email."""

    @server.tool()
    async def list_alerts(
        ctx: Context,
        status: Literal["open", "resolved", "all"] = "open",
        site_id: int | None = None,
        limit: int = 100,
    ) -> out.AlertsResult:
        """Alerts (open by default), newest first, with site names and open/resolved/acknowledged times."""

        async def work(session, caller):
            rows = await alerts_service.list_alerts(session, caller, status, site_id, limit)
            return out.AlertsResult(alerts=[out.AlertInfo.of(a, name) for a, name in rows])

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
        api_error_rate, database_unreachable. Changing a site's rule needs its manager, a global one admin."""
        fields = {"enabled": enabled, "threshold": threshold, "severity": severity}
        fields |= {"pending_seconds": pending_seconds, "recipients": recipients}

        async def work(session, caller):
            changed = None
            if rule_id is not None:
                changed = await rules_service.update_rule(session, rule_id, scope=caller, **fields)
            elif kind is not None:
                caller.check_manage(site_id)
                rules = await rules_service.list_rules(session, caller, site_id)
                match = next((r for r in rules if r.kind == kind and r.site_id == site_id), None)
                if match is not None:
                    changed = await rules_service.update_rule(session, match.id, scope=caller, **fields)
                else:
                    given = {k: v for k, v in fields.items() if v is not None}
                    changed = await rules_service.create_rule(session, kind, site_id, scope=caller, **given)
            rules = await rules_service.list_rules(session, caller, site_id)
            return out.RulesResult(
                changed=out.RuleInfo.of(changed, caller) if changed else None,
                rules=[out.RuleInfo.of(r, caller) for r in rules],
            )

        return await run(ctx, work)

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
                await notifier.deliver(plain_email(subject.strip(), body, run.settings.smtp_from, to))
            except EmailError as err:
                raise ToolError(f"email not sent: {err}") from err
            logger.info("MCP email %r sent to %s for %s", subject, ", ".join(to), caller.name)
            return out.EmailResult(sent=True, recipients=to, subject=subject.strip())

        return await run(ctx, work, admin=True)
