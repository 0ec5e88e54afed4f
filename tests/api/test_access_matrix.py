"""The access matrix: every Query, Mutation and Subscription field (found by introspection over HTTP) run as
anonymous, viewer of site A, manager of A, admin, site key A and site key B, against one classification table.

A field missing from FIELDS fails the test: add ONE line to FIELDS (see docs/security.md, "Access matrix"):
    "Query.myField": ("read", 'query($site: ID!) { myField(siteId: $site) { __typename } }'),
The class says who may call it (CLASSES below); the document is run with the variables of VARIABLES.
"""

import asyncio
import json
import uuid
from datetime import timedelta

import httpx
import websockets

from causes import Cause, text
from db.central.alert_store import add_rule
from db.central.maintenance_windows import add_window
from db.central.models import Alert
from db.central.report_schedules import add_schedule
from db.clock import utcnow
from tests.api.conftest import PASSWORD, in_session, login, new_site, new_user
from tests.api.test_edge import readings, upload

CALLERS = ("anonymous", "viewer", "manager", "admin", "key_a", "key_b")
OK, REFUSED, MISSING = "ok", "refused", "missing"
REFUSALS = ("forbidden", text(Cause.NOT_AUTHENTICATED))  # how a refusal starts (causes/)
USERS = {"anonymous": REFUSED, "viewer": OK, "manager": OK, "admin": OK, "key_a": REFUSED, "key_b": REFUSED}
# class -> (expected outcome per caller on site A's objects, expected for viewer/manager on site B's objects)
CLASSES = {
    "public": ({c: OK for c in CALLERS}, None),  # no credential needed
    "self": (USERS, None),  # any logged-in user, about itself
    "fleet": (USERS, None),  # any logged-in user; lists hold only its sites (tests/api/test_site_access.py)
    "read": (USERS, MISSING),  # any logged-in user of the site; another site answers "not found"
    "manage": ({**USERS, "viewer": REFUSED}, MISSING),  # the site's managers and admins
    "admin": ({c: OK if c == "admin" else REFUSED for c in CALLERS}, None),
    "edge": ({c: OK if c.startswith("key") else REFUSED for c in CALLERS}, None),  # a site key, its own site
}
SITE_EDIT = 'mutation($site: ID!) { upsertMeter(siteId: $site, meter: {externalId: "m1"}) { id } }'
FIELDS = {
    "Query.siteConfig": ("edge", "{ siteConfig { __typename } }"),
    "Query.sites": ("fleet", "{ sites { id } }"),
    "Query.fleet": ("fleet", "{ fleet { total items { site { id } } } }"),
    "Query.site": ("read", "query($site: ID!) { site(id: $site) { id } }"),
    "Query.meters": ("read", "query($site: ID) { meters(siteId: $site) { id } }"),
    "Query.siteInventory": ("read", "query($site: ID!) { siteInventory(siteId: $site) { version } }"),
    "Query.readings": ("read", 'query($meter: ID!, $start: DateTime!, $end: DateTime!) { readings(meterId: $meter, point: "total_kwh", start: $start, end: $end) { items { value } } }'),
    "Query.energy": ("read", 'query($meter: ID!, $start: DateTime!, $end: DateTime!) { energy(meterId: $meter, point: "total_kwh", start: $start, end: $end) { items { __typename } } }'),
    "Query.energyTotals": ("read", "query($site: ID!, $day: Date!) { energyTotals(siteIds: [$site], firstDay: $day, lastDay: $day) { fleet { __typename } } }"),
    "Query.alerts": ("read", "query($site: ID) { alerts(siteId: $site, status: ALL) { id } }"),
    "Query.me": ("public", "{ me { id } }"),
    "Query.users": ("admin", "{ users { id } }"),
    "Query.siteGrants": ("admin", "query($user: ID) { siteGrants(userId: $user) { siteId } }"),
    "Query.alertRules": ("read", "query($site: ID) { alertRules(siteId: $site) { id recipients } }"),
    "Query.generateReport": ("read", "query($site: ID!, $start: DateTime!, $end: DateTime!) { generateReport(from: $start, to: $end, siteIds: [$site]) { sites { siteId } } }"),
    "Query.siteTariff": ("read", "query($site: ID!) { siteTariff(siteId: $site) { currency } }"),
    "Mutation.authenticateSite": ("edge", "mutation { authenticateSite { siteId } }"),
    "Mutation.uploadReadings": ("edge", "mutation($batch: ReadingBatchInput!) { uploadReadings(batch: $batch) { __typename } }"),
    "Mutation.heartbeat": ("edge", 'mutation { heartbeat(status: {agentVersion: "matrix", queueDepth: 0, meters: []}) { siteId } }'),
    "Mutation.login": ("public", "mutation($email: String!, $password: String!) { login(email: $email, password: $password) { __typename } }"),
    "Mutation.changePassword": ("self", 'mutation { changePassword(oldPassword: "not the password", newPassword: "another password 1") { token } }'),
    "Mutation.resetPassword": ("admin", 'mutation($user: ID!) { resetPassword(id: $user, newPassword: "a new password 1") { id } }'),
    "Mutation.logout": ("self", "mutation { logout }"),
    "Mutation.grantSite": ("admin", 'mutation($user: ID!, $site: ID!) { grantSite(userId: $user, siteId: $site, role: "viewer") { siteId } }'),
    "Mutation.revokeSite": ("admin", "mutation($user: ID!, $site: ID!) { revokeSite(userId: $user, siteId: $site) { siteId } }"),
    "Mutation.createUser": ("admin", 'mutation($unique: String!) { createUser(email: $unique, password: "a password 12", role: "viewer") { id } }'),
    "Mutation.updateUser": ("admin", "mutation($user: ID!) { updateUser(id: $user, isActive: true) { id } }"),
    "Mutation.createSite": ("admin", "mutation($unique: String!) { createSite(name: $unique) { apiKey } }"),
    "Mutation.rotateSiteKey": ("admin", "mutation($spare: ID!) { rotateSiteKey(siteId: $spare) { apiKey } }"),
    "Mutation.setSiteActive": ("admin", "mutation($spare: ID!) { setSiteActive(siteId: $spare, active: true) { id } }"),
    "Mutation.setSiteMaintenance": ("manage", "mutation($site: ID!) { setSiteMaintenance(siteId: $site, maintenance: false) { id } }"),
    "Mutation.setSiteCollectionInterval": ("manage", "mutation($site: ID!) { setSiteCollectionInterval(siteId: $site, seconds: 60) { id } }"),
    "Mutation.setSiteAllowedNetworks": ("admin", "mutation($spare: ID!) { setSiteAllowedNetworks(siteId: $spare, networks: []) { id } }"),
    "Mutation.upsertMeter": ("manage", SITE_EDIT),
    "Mutation.deleteMeter": ("manage", "mutation($victim: ID!) { deleteMeter(meterId: $victim) }"),
    "Mutation.editMeter": ("manage", 'mutation($site: ID!) { editMeter(siteId: $site, meter: {externalId: "m1", name: "M"}) { version } }'),
    "Mutation.removeMeter": ("manage", 'mutation($site: ID!) { removeMeter(siteId: $site, externalId: "not-defined") { version } }'),
    "Mutation.proposeInventory": ("edge", 'mutation { proposeInventory(proposal: {baseVersion: null, origin: "file", meters: []}) { version } }'),
    "Mutation.acknowledgeAlert": ("manage", "mutation($alert: ID!) { acknowledgeAlert(id: $alert) { id } }"),
    "Mutation.createAlertRule": ("manage", 'mutation($site: ID!) { createAlertRule(kind: "edge_queue", siteId: $site) { id } }'),
    "Mutation.updateAlertRule": ("manage", "mutation($rule: ID!) { updateAlertRule(id: $rule, rule: {enabled: true}) { id } }"),
    "Mutation.setSiteTariff": ("manage", "mutation($site: ID!) { setSiteTariff(siteId: $site, tariff: null) { currency } }"),
    "Mutation.resolveAlert": ("manage", "mutation($alert: ID!) { resolveAlert(id: $alert) { id } }"),
    "Mutation.deleteAlertRule": ("manage", "mutation($ruleVictim: ID!) { deleteAlertRule(id: $ruleVictim) }"),
    "Query.alertOutlook": ("read", "query($site: ID) { alertOutlook(siteId: $site) { kind } }"),
    "Query.alertRulePreview": ("read", 'query($site: ID) { alertRulePreview(draft: {kind: "edge_queue", siteId: $site}) { kind } }'),
    "Query.maintenanceWindows": ("read", "query($site: ID!) { maintenanceWindows(siteId: $site) { id } }"),
    "Query.demoEmails": ("admin", "{ demoEmails { enabled } }"),
    "Mutation.createMaintenanceWindow": ("manage", "mutation($site: ID!, $window: MaintenanceWindowInput!) { createMaintenanceWindow(siteId: $site, window: $window) { id } }"),
    "Mutation.updateMaintenanceWindow": ("manage", "mutation($maintenance: ID!, $window: MaintenanceWindowInput!) { updateMaintenanceWindow(id: $maintenance, window: $window) { id } }"),
    "Mutation.deleteMaintenanceWindow": ("manage", "mutation($windowVictim: ID!) { deleteMaintenanceWindow(id: $windowVictim) }"),
    "Query.reportSchedules": ("admin", "{ reportSchedules { id } }"),
    "Mutation.addReportSchedule": ("admin", 'mutation($site: ID!) { addReportSchedule(recipients: ["ops@example.test"], siteIds: [$site]) { id } }'),
    "Mutation.removeReportSchedule": ("admin", "mutation($schedule: ID!) { removeReportSchedule(id: $schedule) }"),
    "Subscription.siteStatusChanged": ("read", "subscription($site: ID) { siteStatusChanged(siteId: $site) { siteId } }"),
    "Subscription.readingsAdded": ("read", "subscription($site: ID) { readingsAdded(siteId: $site) { siteId } }"),
    "Subscription.alertRaised": ("read", "subscription($site: ID) { alertRaised(siteId: $site) { id } }"),
    "Subscription.alertResolved": ("read", "subscription($site: ID) { alertResolved(siteId: $site) { id } }"),
}  # fmt: skip
LAST = ("Mutation.logout",)
MISSING_SITE = 2_000_000_000  # an id no test creates  # ends the caller's sessions: run after everything else
INTROSPECT = "{ %s: __schema { queryType { fields { name } } mutationType { fields { name } } subscriptionType { fields { name } } } }"


async def _world(central, url: str) -> dict:
    """Sites A, B and a spare; a meter, an alert and a rule on A and on B; the callers' credentials."""
    (a, key_a), (b, key_b), (spare, _) = [await new_site(url) for _ in range(3)]
    start = utcnow() - timedelta(hours=1)
    victims = ("m1", "victim-manager", "victim-admin", "victim-b")
    for key in (key_a, key_b):
        await upload(central.url, key, [r for v in victims for r in readings(v, 2, start)])

    async def objects(session):
        found = {}
        for name, site in (("a", a), ("b", b)):
            alert = Alert(site_id=site, kind="heartbeat_missing", severity="critical", message="matrix")
            session.add(alert)
            rule = await add_rule(session, "meter_unreachable", site)
            hour = utcnow().replace(microsecond=0) + timedelta(days=1)
            window = await add_window(session, site, starts_at=hour, ends_at=hour + timedelta(hours=1))
            await session.flush()
            found[name] = (alert.id, rule.id, window.id)
        # deleted by the callers allowed to (victims, one each): an override and a window on A, on B
        for name, site, kind in (
            ("manager", a, "edge_queue"),
            ("admin", a, "heartbeat_missing"),
            ("b", b, "edge_queue"),
        ):
            victim = await add_rule(session, kind, site)
            hour = utcnow().replace(microsecond=0) + timedelta(days=2)
            window = await add_window(session, site, starts_at=hour, ends_at=hour + timedelta(hours=1))
            await session.flush()
            found[f"victims {name}"] = (victim.id, window.id)
        found["schedule"] = (await add_schedule(session, ["ops@example.test"], [a], "UTC", "matrix")).id
        return found

    made = await in_session(url, objects)
    admin_token = await login(central.url, await new_user(url, "admin"))
    spare_user = await new_user(url, "viewer")
    users = {
        "viewer": await login(central.url, await new_user(url, "viewer", sites=(a,))),
        "manager": await login(central.url, await new_user(url, "manager", sites=(a,))),
        "admin": admin_token,
    }

    async def meters():
        async with httpx.AsyncClient(timeout=30) as client:
            answer = await client.post(
                central.url,
                json={"query": "{ meters { id siteId externalId } users { id email } }"},
                headers={"Authorization": f"Bearer {admin_token}"},
            )
        return answer.json()["data"]

    data = await meters()
    meter = {(int(m["siteId"]), m["externalId"]): m["id"] for m in data["meters"]}
    user_id = next(u["id"] for u in data["users"] if u["email"] == spare_user)
    common = {"start": (start - timedelta(hours=1)).isoformat(), "end": utcnow().isoformat()}
    common |= {"day": utcnow().date().isoformat(), "spare": str(spare), "user": user_id}
    common |= {"email": spare_user, "password": PASSWORD, "batch": {"batchId": "x", "readings": []}}
    later = utcnow().replace(microsecond=0) + timedelta(days=3)
    common |= {"schedule": str(made["schedule"])}
    common |= {"window": {"startsAt": later.isoformat(), "endsAt": (later + timedelta(hours=1)).isoformat()}}
    on = {
        name: {"alert": str(made[name][0]), "rule": str(made[name][1]), "maintenance": str(made[name][2])}
        for name in ("a", "b")
    }
    on_a = {"site": str(a), "meter": meter[a, "m1"], **on["a"]}
    on_b = {"site": str(b), "meter": meter[b, "m1"], **on["b"]}
    on_b |= {"ruleVictim": str(made["victims b"][0]), "windowVictim": str(made["victims b"][1])}
    return {
        "headers": {
            "anonymous": {},
            **{name: {"Authorization": f"Bearer {token}"} for name, token in users.items()},
            "key_a": {"X-API-Key": key_a},
            "key_b": {"X-API-Key": key_b},
        },
        "a": {**common, **on_a},
        "b": {**common, **on_b, "victim": meter[b, "victim-b"]},
        "victims": {"manager": meter[a, "victim-manager"], "admin": meter[a, "victim-admin"]},
        "fallback_victim": meter[a, "m1"],
        "rule_victims": {
            who: {
                "ruleVictim": str(made[f"victims {who}"][0]),
                "windowVictim": str(made[f"victims {who}"][1]),
            }
            for who in ("manager", "admin")
        },
        "fallback_rule_victims": {"ruleVictim": on["a"]["rule"], "windowVictim": on["a"]["maintenance"]},
    }


def outcome(status: int, body: dict, root: str, on_b: bool) -> str:
    """ok, refused or missing from an HTTP answer; a malformed document fails the test."""
    if status == 401:
        return REFUSED
    assert status == 200, (root, status, body)
    for error in body.get("errors") or ():
        message = error["message"]
        assert error.get("path"), f"{root}: the document is invalid: {message}"  # validation errors have none
        if message.startswith(REFUSALS):
            return REFUSED
        if message.startswith("no ") and " with id " in message:
            return MISSING
    if on_b and not body.get("errors") and (body.get("data") or {}).get(root) is None:
        return MISSING  # site(id:) answers null for a site out of scope, as for no site
    return OK


async def _subscribe(ws_url: str, headers: dict, query: str, variables: dict) -> str:
    """ok, refused or missing for one subscription over graphql-transport-ws."""
    token = headers.get("Authorization", "").removeprefix("Bearer ")
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        try:
            first = json.loads(await asyncio.wait_for(ws.recv(), 30))
        except websockets.ConnectionClosed:
            return REFUSED
        assert first["type"] == "connection_ack", first
        await ws.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}})
        )
        # A refusal comes as an error, a running subscription sends nothing: a second subscription on a site
        # that does not exist, started after it, is refused the same way; its error marks the first as accepted.
        probe = {"query": query, "variables": {**variables, "site": str(MISSING_SITE)}}
        await ws.send(json.dumps({"id": "2", "type": "subscribe", "payload": probe}))
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 30))
            # an error before the stream starts is "error"; one raised by the resolver is "next" with errors
            errors = (
                message["payload"]
                if message["type"] == "error"
                else (message.get("payload") or {}).get("errors")
            )
            if message["type"] not in ("error", "next") or not errors:
                continue
            if message["id"] == "2":
                return OK
            text = errors[0]["message"]
            if text.startswith(REFUSALS):
                return REFUSED
            assert text.startswith("no ") and " with id " in text, text
            return MISSING


def test_every_field_is_classified_and_obeys_its_class(central, central_pg_url):
    world = asyncio.run(_world(central, central_pg_url))
    schema = httpx.post(central.url, json={"query": INTROSPECT % "s"}, timeout=30).json()["data"]["s"]
    fields = [
        f"{kind}.{field['name']}"
        for kind, key in (
            ("Query", "queryType"),
            ("Mutation", "mutationType"),
            ("Subscription", "subscriptionType"),
        )
        for field in schema[key]["fields"]
    ]
    unclassified = [f for f in fields if f not in FIELDS]
    assert not unclassified, (
        f"unclassified schema fields {unclassified}: add one line per field to FIELDS in "
        f"tests/api/test_access_matrix.py, e.g. "
        f'\'"{unclassified[0]}": ("read", "query($site: ID!) {{ ... }}"),\' with a class of {sorted(CLASSES)} '
        "(docs/security.md, Access matrix)"
    )
    assert not set(FIELDS) - set(fields), (
        f"FIELDS names fields the schema lacks: {sorted(set(FIELDS) - set(fields))}"
    )
    order = sorted(fields, key=lambda f: f in LAST)
    wrong = []
    with httpx.Client(timeout=30) as client:
        for caller in CALLERS:  # admin after the others: it rotates keys and deletes meters
            headers = world["headers"][caller]
            for field in order:
                kind, document = FIELDS[field]
                expected, other_site = CLASSES[kind]
                runs = [("a", expected[caller])]
                if other_site and caller in ("viewer", "manager"):
                    runs.append(("b", other_site))
                for where, want in runs:
                    variables = {**world[where], "unique": f"m-{uuid.uuid4().hex[:8]}@example.test"}
                    variables.setdefault("victim", world["victims"].get(caller, world["fallback_victim"]))
                    for name, victim in (
                        world["rule_victims"].get(caller, world["fallback_rule_victims"]).items()
                    ):
                        variables.setdefault(name, victim)
                    root = field.split(".")[1]
                    if field.startswith("Subscription."):
                        got = asyncio.run(_subscribe(central.ws_url, headers, document, variables))
                    else:
                        answer = client.post(
                            central.url, json={"query": document, "variables": variables}, headers=headers
                        )
                        got = outcome(
                            answer.status_code,
                            answer.json() if answer.status_code == 200 else {},
                            root,
                            where == "b",
                        )
                    if got != want:
                        wrong.append(f"{field} as {caller} on site {where.upper()}: {got}, expected {want}")
    assert not wrong, "\n".join(wrong)
