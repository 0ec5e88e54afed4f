"""Each central MCP tool through the SDK's in-memory Client against real PostgreSQL (and email to aiosmtpd)."""

import asyncio
import os
import sys
from datetime import timedelta

from mcp import Client, StdioServerParameters

from api.alerts.notifier import EmailNotifier
from api.alerts.settings import AlertSettings
from api.mcp.server import build_central_mcp
from tests.api.mcp.conftest import ADMIN_KEY, DAY, SECRET
from tests.support.central_server import REPO_ROOT
from tests.support.smtp import SmtpSink, bodies

TOOLS = {
    "query_meters",
    "query_readings",
    "query_energy",
    "get_site_status",
    "send_alert_email",
    "configure_alert_rules",
    "generate_report",
    "list_alerts",
    "get_site_inventory",
    "edit_meter",
}


def server_for(fleet, token, sink: SmtpSink | None = None):
    """A central MCP server acting with `token`."""
    settings = fleet.settings
    if sink is not None:
        settings = settings.model_copy(update={"smtp_host": sink.host, "smtp_port": sink.port})
    alerting = AlertSettings(_env_file=None, recipients="ops@example.test", smtp_timeout_seconds=3)
    notifier = EmailNotifier(settings, alerting)
    return build_central_mcp(
        settings, fleet.sessions, token=token, admin_key=ADMIN_KEY, alert_settings=alerting, notifier=notifier
    )


async def call(server, tool: str, **arguments):
    """Call a tool; (structured result, error text or None)."""
    async with Client(server) as client:
        result = await client.call_tool(tool, arguments)
    text = " ".join(getattr(c, "text", "") for c in result.content)
    return (None, text.split(": ", 1)[1]) if result.is_error else (result.structured_content, None)


async def test_tools_are_listed_with_output_schemas(fleet):
    async with Client(server_for(fleet, fleet.viewer_token)) as client:
        tools = (await client.list_tools()).tools
    assert {t.name for t in tools} == TOOLS
    assert all(t.output_schema and t.description for t in tools)


async def test_reading_tools_as_viewer(fleet):
    server = server_for(fleet, fleet.viewer_token)
    data, _ = await call(server, "get_site_status", site_id=fleet.site_id)
    [site] = data["sites"]
    assert (site["name"], site["status"], site["queue_depth"], site["meters_total"]) == (
        fleet.site_name,
        "online",
        3,
        1,
    )
    assert site["open_alerts"] >= 1

    data, _ = await call(server, "query_meters", site_id=fleet.site_id)
    [meter] = data["meters"]
    assert meter["id"] == fleet.meter_id and meter["state"] == "reachable"
    assert {p["name"] for p in meter["data_points"]} == {"total_kwh", "power_kw"}
    assert next(p for p in meter["data_points"] if p["name"] == "total_kwh")["last_value"] == 148.0

    start, end = DAY.isoformat(), (DAY + timedelta(hours=3)).isoformat()
    data, _ = await call(
        server, "query_readings", meter_id=fleet.meter_id, point="total_kwh", start=start, end=end
    )
    assert [i["value"] for i in data["items"]] == [100.0, 102.0, 104.0] and data["next_cursor"] is None
    data, _ = await call(
        server, "query_readings", meter_id=fleet.meter_id, point="total_kwh", start=start, end=end, limit=2
    )
    assert len(data["items"]) == 2 and data["next_cursor"]
    data, _ = await call(
        server,
        "query_energy",
        meter_id=fleet.meter_id,
        point="total_kwh",
        start=start,
        end=(DAY + timedelta(days=1)).isoformat(),
        resolution="day",
    )
    [day] = data["items"]  # hourly readings, 2 kWh an hour
    assert (day["consumption"], day["quality"], day["completeness"]) == (48.0, 0, 1.0)

    data, _ = await call(server, "list_alerts", site_id=fleet.site_id)
    assert [a["id"] for a in data["alerts"]] == [fleet.alert_id]
    assert data["alerts"][0]["site_name"] == fleet.site_name

    end = (DAY + timedelta(days=1)).isoformat()
    data, _ = await call(server, "generate_report", start=DAY.isoformat(), end=end, site_ids=[fleet.site_id])
    [site] = data["sites"]
    assert site["energy_kwh"] == 48.0 and site["peak_power_kw"] == 15.0
    assert site["peak_power_at"].startswith(f"{DAY:%Y-%m-%d}T13:00")
    assert site["completeness"] == 1.0  # hourly readings: the meters' own interval, not the site's 60 s
    assert f"| {DAY:%Y-%m-%d} 00:00 | 48.000 |" in data["markdown"] and data["csv"].startswith("site_id,")

    data, _ = await call(server, "configure_alert_rules")
    assert {r["kind"] for r in data["rules"]} >= {"heartbeat_missing", "api_error_rate"}


async def test_errors_the_model_can_act_on(fleet):
    viewer = server_for(fleet, fleet.viewer_token)
    _, error = await call(viewer, "configure_alert_rules", kind="edge_queue", threshold=5)
    assert error.startswith("forbidden: admin role required")
    _, error = await call(
        viewer,
        "query_readings",
        meter_id=fleet.meter_id,
        point="nope",
        start=DAY.isoformat(),
        end=DAY.isoformat(),
    )
    assert "nope" in error
    _, error = await call(viewer, "generate_report", start=DAY.isoformat(), end=DAY.isoformat())
    assert error == "to must be after from"
    _, error = await call(server_for(fleet, None), "list_alerts")
    assert error.startswith("not authorised: set METERIT_MCP_TOKEN")
    _, error = await call(server_for(fleet, "garbage"), "list_alerts")
    assert error == "not authorised: invalid or expired token"


async def test_admin_configures_rules_and_sends_email(fleet):
    admin = server_for(fleet, fleet.admin_token)
    data, _ = await call(
        admin, "configure_alert_rules", kind="edge_queue", site_id=fleet.site_id, threshold=500
    )
    changed = data["changed"]
    assert (changed["kind"], changed["site_id"], changed["threshold"], changed["threshold_unit"]) == (
        "edge_queue",
        fleet.site_id,
        500.0,
        "readings",
    )
    data, _ = await call(
        admin, "configure_alert_rules", rule_id=changed["id"], enabled=False, recipients=["a@b.test"]
    )
    assert data["changed"]["enabled"] is False and data["changed"]["recipients"] == ["a@b.test"]
    _, error = await call(
        admin, "configure_alert_rules", rule_id=changed["id"], recipients=["not an address"]
    )
    assert error == "not an email address: 'not an address'"

    sink = SmtpSink().start()
    try:
        key_server = server_for(fleet, ADMIN_KEY, sink)
        data, _ = await call(
            key_server, "send_alert_email", subject="Meter check", body="Please look at meter-001."
        )
        assert data == {"sent": True, "recipients": ["ops@example.test"], "subject": "Meter check"}
        [mail] = await sink.wait_for(1)
        assert mail["Subject"] == "Meter check" and bodies(mail)[0].strip() == "Please look at meter-001."
        sink.stop()
        _, error = await call(key_server, "send_alert_email", subject="Again", body="x")
        assert error.startswith("email not sent: SMTP 127.0.0.1:")
    finally:
        sink.stop()


async def test_over_stdio_with_the_command(fleet):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES_", "DATABASE_URL"))}
    env |= {"METERIT_MCP_TOKEN": fleet.viewer_token, "JWT_SECRET": SECRET, "PYTHONUNBUFFERED": "1"}
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "meterit.cli", "mcp", "client", "--database-url", fleet.url],
        env=env,
        cwd=str(REPO_ROOT),
    )
    async with Client(params) as client:
        assert {t.name for t in (await client.list_tools()).tools} == TOOLS
        result = await client.call_tool("list_alerts", {"site_id": fleet.site_id})
    assert [a["id"] for a in result.structured_content["alerts"]] == [fleet.alert_id]


async def test_over_streamable_http_with_a_bearer_header(fleet):
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    from tests.support.smtp import free_port

    port = free_port()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES_", "DATABASE_URL", "METERIT_MCP"))
    }
    env |= {"JWT_SECRET": SECRET, "METERIT_MCP_ADMIN_KEY": ADMIN_KEY}
    command = [sys.executable, "-m", "meterit.cli", "mcp", "client", "--http", "--port", str(port)]
    process = await asyncio.create_subprocess_exec(
        *command, "--database-url", fleet.url, env=env, cwd=str(REPO_ROOT), stderr=asyncio.subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        for _ in range(150):  # wait for the port
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            except OSError:
                await asyncio.sleep(0.2)

        async def list_alerts(token: str | None):
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
                async with Client(streamable_http_client(url, http_client=http)) as client:
                    result = await client.call_tool("list_alerts", {"site_id": fleet.site_id})
            return result

        result = await list_alerts(ADMIN_KEY)
        assert [a["id"] for a in result.structured_content["alerts"]] == [fleet.alert_id]
        result = await list_alerts(fleet.viewer_token)
        assert not result.is_error
        result = await list_alerts(None)
        assert result.is_error and "not authorised" in result.content[0].text
    finally:
        process.terminate()
        await process.wait()


async def test_inventory_read_by_a_viewer_and_edited_by_an_admin(fleet):
    viewer, admin = server_for(fleet, fleet.viewer_token), server_for(fleet, fleet.admin_token)
    point = {
        "name": "total_kwh",
        "object_type": "analogInput",
        "instance": 0,
        "unit": "kWh",
        "cumulative": True,
    }
    _, error = await call(viewer, "edit_meter", site_id=fleet.site_id, external_id="meter-001", name="No")
    assert error.startswith(f"forbidden: site manager role required for site {fleet.site_id}")
    before, _ = await call(viewer, "get_site_inventory", site_id=fleet.site_id)
    data, _ = await call(
        admin, "edit_meter", site_id=fleet.site_id, external_id="meter-001", name="Main incomer",
        bacnet_address="127.0.0.99", interval_seconds=15, points=[point],
    )  # fmt: skip
    assert data["version"] == before["version"] + 1
    [meter] = [m for m in data["meters"] if m["externalId"] == "meter-001"]
    assert (meter["name"], meter["intervalSeconds"], meter["points"][0]["objectType"]) == (
        "Main incomer", 15, "analog-input",
    )  # fmt: skip
    assert data["history"][0]["origin"] == "mcp" and "admin" in data["history"][0]["author"]
    _, error = await call(
        admin, "edit_meter", site_id=fleet.site_id, external_id="meter-001", interval_seconds=1
    )
    assert "interval_seconds" in error and "greater than or equal to 5" in error
