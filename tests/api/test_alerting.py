"""Alerting over real HTTP on PostgreSQL: rules and their preview, outlook, maintenance windows, alerts, roles."""

from datetime import timedelta

import pytest
from gql.transport.exceptions import TransportQueryError
from sqlalchemy import update

from db.central.models import Alert, Meter, Site
from db.clock import utcnow
from tests.api.conftest import execute, grant, http_client, in_session, login, new_site, new_user

RULE = "id kind siteId enabled threshold severity pendingSeconds recipients"
CREATE = f"""mutation($kind: String!, $site: ID, $rule: AlertRuleInput) {{
  createAlertRule(kind: $kind, siteId: $site, rule: $rule) {{ {RULE} }} }}"""
UPDATE = (
    f"mutation($id: ID!, $rule: AlertRuleInput!) {{ updateAlertRule(id: $id, rule: $rule) {{ {RULE} }} }}"
)
DELETE = "mutation($id: ID!) { deleteAlertRule(id: $id) }"
OUTLOOK_FIELDS = "ruleId kind siteId siteName siteTimezone meterExternalId message state alertsAt"
PREVIEW = f"query($d: AlertRuleDraft!) {{ alertRulePreview(draft: $d) {{ {OUTLOOK_FIELDS} }} }}"
OUTLOOK = f"query($s: ID) {{ alertOutlook(siteId: $s) {{ {OUTLOOK_FIELDS} }} }}"
WINDOW = "id siteId startsAt endsAt repeat note createdBy timezone activeNow nextStart nextEnd"
CREATE_WINDOW = f"""mutation($s: ID!, $w: MaintenanceWindowInput!) {{
  createMaintenanceWindow(siteId: $s, window: $w) {{ {WINDOW} }} }}"""
UPDATE_WINDOW = f"""mutation($id: ID!, $w: MaintenanceWindowInput!) {{
  updateMaintenanceWindow(id: $id, window: $w) {{ {WINDOW} }} }}"""
ALERT = "id kind severity message resolvedAt resolvedBy acknowledgedBy acknowledgedNote"
ALERTS = f"""query($st: AlertStatus!, $s: ID, $k: String, $sev: String) {{
  alerts(status: $st, siteId: $s, kind: $k, severity: $sev) {{ {ALERT} }} }}"""


async def refused(client, query: str, **variables) -> str:
    """The message of the GraphQL error an operation is answered with."""
    with pytest.raises(TransportQueryError) as caught:
        await execute(client, query, **variables)
    return caught.value.errors[0]["message"]


async def silent_site(url: str, minutes: float, **fields) -> int:
    """A site last heard from `minutes` ago."""
    site_id, _ = await new_site(url)
    heard = utcnow() - timedelta(minutes=minutes)
    values = {"last_heartbeat_at": heard, "last_contact_at": heard, "status": "degraded"} | fields

    async def work(session):
        await session.execute(update(Site).where(Site.id == site_id).values(**values))

    await in_session(url, work)
    return site_id


async def test_viewer_reads_rules_but_cannot_change_them(central, central_pg_url, viewer_token, admin_token):
    viewer, admin = http_client(central.url, token=viewer_token), http_client(central.url, token=admin_token)
    rules = (await execute(viewer, f"{{ alertRules {{ {RULE} }} }}"))["alertRules"]
    heartbeat = next(r for r in rules if r["kind"] == "heartbeat_missing" and r["siteId"] is None)
    site_id, _ = await new_site(central_pg_url)
    await grant(central_pg_url, viewer_token.email, site_id)
    denied = f"forbidden: site manager role required for site {site_id}"
    assert await refused(viewer, CREATE, kind="edge_queue", site=str(site_id)) == denied
    global_only = "forbidden: admin role required"
    assert await refused(viewer, UPDATE, id=heartbeat["id"], rule={"threshold": 3}) == global_only
    override = await execute(admin, CREATE, kind="edge_queue", site=str(site_id), rule={"threshold": 50})
    rule_id = override["createAlertRule"]["id"]
    assert await refused(viewer, DELETE, id=rule_id) == denied
    assert (await execute(admin, DELETE, id=rule_id))["deleteAlertRule"] == rule_id
    left = await execute(viewer, "query($s: ID) { alertRules(siteId: $s) { id siteId } }", s=str(site_id))
    assert all(r["siteId"] is None for r in left["alertRules"])


async def test_rule_changes_with_bad_input_are_refused_clearly(central, central_pg_url, admin_token):
    admin = http_client(central.url, token=admin_token)
    site_id, _ = await new_site(central_pg_url)
    site = str(site_id)
    assert "unknown rule kind 'nope'" in await refused(admin, CREATE, kind="nope", site=site)
    assert "severity must be one of info, warning, critical" in await refused(
        admin, CREATE, kind="edge_queue", site=site, rule={"severity": "loud"}
    )
    assert "threshold must be a number from 0" in await refused(
        admin, CREATE, kind="edge_queue", site=site, rule={"threshold": -1}
    )
    assert "not an email address: 'ops at example'" in await refused(
        admin, CREATE, kind="edge_queue", site=site, rule={"recipients": ["ops at example"]}
    )
    assert "no site with id 999999999" in await refused(admin, CREATE, kind="edge_queue", site="999999999")
    await execute(admin, CREATE, kind="meter_unreachable", site=site)
    assert "exists already" in await refused(admin, CREATE, kind="meter_unreachable", site=site)
    rules = (await execute(admin, f"{{ alertRules {{ {RULE} }} }}"))["alertRules"]
    glob = next(r for r in rules if r["kind"] == "edge_queue" and r["siteId"] is None)
    assert "cannot be deleted: disable it instead" in await refused(admin, DELETE, id=glob["id"])
    assert "no alert rule with id 999999999" in await refused(admin, DELETE, id="999999999")
    assert "invalid rule id" in await refused(admin, DELETE, id="abc")


async def test_preview_shows_where_a_drafted_rule_would_fire(central, central_pg_url, viewer_token):
    viewer = http_client(central.url, token=viewer_token)
    site_id = await silent_site(central_pg_url, 20)
    await grant(central_pg_url, viewer_token.email, site_id)
    draft = {"kind": "heartbeat_missing", "siteId": str(site_id), "rule": {"threshold": 15}}
    fired = (await execute(viewer, PREVIEW, d=draft))["alertRulePreview"]
    [entry] = [e for e in fired if e["siteId"] == str(site_id)]
    assert entry["state"] in ("PENDING", "OPEN") and "not heard from since" in entry["message"]
    draft["rule"]["threshold"] = 60  # would not fire yet: building up, alerts 40 minutes from now
    [coming] = [e for e in (await execute(viewer, PREVIEW, d=draft))["alertRulePreview"]]
    assert coming["state"] == "BUILDING" and coming["siteId"] == str(site_id)
    assert "severity must be one of" in await refused(
        viewer, PREVIEW, d={"kind": "edge_queue", "rule": {"severity": "loud"}}
    )
    assert "unknown rule kind" in await refused(viewer, PREVIEW, d={"kind": "nope"})


async def test_outlook_says_when_an_unreachable_meter_will_alert(central, central_pg_url, viewer_token):
    viewer = http_client(central.url, token=viewer_token)
    site_id = await silent_site(central_pg_url, 0)
    await grant(central_pg_url, viewer_token.email, site_id)
    since = utcnow() - timedelta(minutes=2)

    async def meter(session):
        session.add(
            Meter(site_id=site_id, external_id="m-dead", name="Dead", reachable=False, last_seen_at=since)
        )
        (await session.get(Site, site_id)).timezone = "Europe/Berlin"  # the hint shows alertsAt in it

    await in_session(central_pg_url, meter)
    found = (await execute(viewer, OUTLOOK, s=str(site_id)))["alertOutlook"]
    [entry] = [e for e in found if e["kind"] == "meter_unreachable"]
    assert (entry["kind"], entry["state"], entry["meterExternalId"]) == (
        "meter_unreachable",
        "BUILDING",
        "m-dead",
    )
    assert entry["alertsAt"] == (since + timedelta(minutes=5)).isoformat()
    assert entry["siteTimezone"] == "Europe/Berlin"


async def test_maintenance_windows_for_admins_with_clear_errors(
    central, central_pg_url, admin_token, viewer_token
):
    admin, viewer = http_client(central.url, token=admin_token), http_client(central.url, token=viewer_token)
    site_id, _ = await new_site(central_pg_url, timezone="Europe/Berlin")
    await grant(central_pg_url, viewer_token.email, site_id)
    denied = f"forbidden: site manager role required for site {site_id}"
    now = utcnow().replace(microsecond=0)
    window = {"startsAt": (now - timedelta(hours=1)).isoformat(), "endsAt": (now + timedelta(hours=1)).isoformat(),
              "repeat": "WEEKLY", "note": "filter change"}  # fmt: skip
    assert await refused(viewer, CREATE_WINDOW, s=str(site_id), w=window) == denied
    made = (await execute(admin, CREATE_WINDOW, s=str(site_id), w=window))["createMaintenanceWindow"]
    assert made["activeNow"] and made["timezone"] == "Europe/Berlin" and made["repeat"] == "WEEKLY"
    assert made["nextEnd"] == (now + timedelta(hours=1)).isoformat() and made["createdBy"].startswith(
        "admin-"
    )
    listed = await execute(
        viewer, f"query($s: ID!) {{ maintenanceWindows(siteId: $s) {{ {WINDOW} }} }}", s=str(site_id)
    )
    assert [w["id"] for w in listed["maintenanceWindows"]] == [made["id"]]
    later = window | {"startsAt": (now + timedelta(hours=2)).isoformat(), "endsAt": (now + timedelta(hours=3)).isoformat(),
                      "repeat": "NONE"}  # fmt: skip
    changed = (await execute(admin, UPDATE_WINDOW, id=made["id"], w=later))["updateMaintenanceWindow"]
    assert not changed["activeNow"] and changed["nextStart"] == later["startsAt"]
    backwards = window | {"endsAt": window["startsAt"]}
    assert "endsAt must be after startsAt" in await refused(admin, CREATE_WINDOW, s=str(site_id), w=backwards)
    daylong = window | {"repeat": "DAILY", "endsAt": (now + timedelta(days=1)).isoformat()}
    assert "must be shorter than 1 day" in await refused(admin, CREATE_WINDOW, s=str(site_id), w=daylong)
    naive = window | {"startsAt": now.replace(tzinfo=None).isoformat()}
    assert "need a time zone" in await refused(admin, CREATE_WINDOW, s=str(site_id), w=naive)
    assert "no site with id 999999999" in await refused(admin, CREATE_WINDOW, s="999999999", w=window)
    delete = "mutation($id: ID!) { deleteMaintenanceWindow(id: $id) }"
    assert await refused(viewer, delete, id=made["id"]) == denied
    assert (await execute(admin, delete, id=made["id"]))["deleteMaintenanceWindow"] == made["id"]
    assert "no maintenance window with id" in await refused(admin, delete, id=made["id"])


async def test_acknowledge_with_note_resolve_and_filter(central, central_pg_url):
    site_id, _ = await new_site(central_pg_url)
    manager_email = await new_user(central_pg_url, "manager", sites=(site_id,))
    viewer = http_client(central.url, token=await login(central.url, manager_email))

    async def add(session):
        rows = [
            Alert(site_id=site_id, kind="edge_queue", severity=sev, message=f"queue {sev}")
            for sev in ("warning", "critical")
        ]
        session.add_all(rows)
        await session.flush()
        return [r.id for r in rows]

    warning_id, critical_id = await in_session(central_pg_url, add)
    ack = f"mutation($id: ID!, $n: String) {{ acknowledgeAlert(id: $id, note: $n) {{ {ALERT} }} }}"
    acked = (await execute(viewer, ack, id=str(warning_id), n="  on my way  "))["acknowledgeAlert"]
    assert acked["acknowledgedNote"] == "on my way" and acked["acknowledgedBy"].startswith("manager-")
    assert "at most 1000 characters" in await refused(viewer, ack, id=str(warning_id), n="x" * 1001)
    site = str(site_id)
    listed = lambda st, **kw: execute(viewer, ALERTS, st=st, s=site, **kw)  # noqa: E731
    assert [a["id"] for a in (await listed("ACKNOWLEDGED"))["alerts"]] == [str(warning_id)]
    assert [a["id"] for a in (await listed("UNACKNOWLEDGED"))["alerts"]] == [str(critical_id)]
    assert [a["id"] for a in (await listed("OPEN", sev="critical"))["alerts"]] == [str(critical_id)]
    assert (await listed("ALL", k="heartbeat_missing"))["alerts"] == []
    resolve = f"mutation($id: ID!) {{ resolveAlert(id: $id) {{ {ALERT} }} }}"
    closed = (await execute(viewer, resolve, id=str(critical_id)))["resolveAlert"]
    assert closed["resolvedAt"] and closed["resolvedBy"].startswith("manager-")
    assert [a["id"] for a in (await listed("RESOLVED"))["alerts"]] == [str(critical_id)]
    assert "no alert with id 999999999" in await refused(viewer, resolve, id="999999999")


async def test_demo_emails_are_off_outside_the_demo(central, admin_token, viewer_token):
    box = await execute(
        http_client(central.url, token=admin_token), "{ demoEmails { enabled emails { id } } }"
    )
    assert box["demoEmails"] == {"enabled": False, "emails": []}
    with pytest.raises(TransportQueryError) as caught:
        await execute(http_client(central.url), "{ demoEmails { enabled } }")
    assert caught.value.errors[0]["message"] == "forbidden: admin role required"
    with pytest.raises(TransportQueryError) as caught:  # the demo's mails name every site: admins only
        await execute(http_client(central.url, token=viewer_token), "{ demoEmails { enabled } }")
    assert caught.value.errors[0]["message"] == "forbidden: admin role required"
