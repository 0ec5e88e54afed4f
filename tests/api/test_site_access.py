"""Per-site roles: viewers read, managers manage the sites granted; another site answers like no site at all."""

from datetime import timedelta

import httpx
import pytest

from db.clock import utcnow
from meterit.cli import main
from tests.api.conftest import login, new_site, new_user
from tests.api.test_edge import readings, upload

MISSING = 2_000_000_000  # an id no test creates


@pytest.fixture(scope="module")
def two_sites(central, central_pg_url):
    """Sites A and B with a meter each and an alert, a viewer and a manager of A, an admin: tokens and ids."""
    import asyncio

    async def make():
        a, key_a = await new_site(central_pg_url)
        b, key_b = await new_site(central_pg_url)
        start = utcnow() - timedelta(hours=1)
        for key in (key_a, key_b):
            await upload(central.url, key, readings("m1", 3, start))
        viewer = await new_user(central_pg_url, "viewer", sites=(a,))
        manager = await new_user(central_pg_url, "manager", sites=(a,))
        admin = await login(central.url, await new_user(central_pg_url, "admin"))
        return {
            "a": a,
            "b": b,
            "viewer": await login(central.url, viewer),
            "manager": await login(central.url, manager),
            "manager_email": manager,
            "admin": admin,
        }

    return asyncio.run(make())


def post(central, token: str, query: str, **variables) -> dict:
    """One GraphQL POST; the whole answer."""
    answer = httpx.post(
        central.url,
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    return answer.json()


def error(answer: dict) -> str:
    """The first error's message."""
    return answer["errors"][0]["message"]


def meter_of(central, token: str, site: int) -> str:
    """The id of the site's meter (as an admin sees it)."""
    return post(central, token, "query($s: ID) { meters(siteId: $s) { id } }", s=str(site))["data"]["meters"][
        0
    ]["id"]


def test_a_viewer_sees_only_its_sites_and_others_look_missing(central, two_sites):
    s, viewer = two_sites, two_sites["viewer"]
    sites = post(central, viewer, "{ sites { id meters { siteId } } }")["data"]["sites"]
    assert {x["id"] for x in sites} == {str(s["a"])}
    assert {m["siteId"] for x in sites for m in x["meters"]} == {str(s["a"])}
    assert post(central, viewer, "query($i: ID!) { site(id: $i) { id } }", i=str(s["b"]))["data"] == {
        "site": None
    }
    # the answer for B is the answer for a site that does not exist, with B's id in it
    for site, expected in ((s["b"], s["b"]), (MISSING, MISSING)):
        answer = post(central, viewer, "query($s: ID) { meters(siteId: $s) { id } }", s=str(site))
        assert error(answer) == f"no site with id {expected}"
        answer = post(central, viewer, "query($s: ID!) { siteTariff(siteId: $s) { currency } }", s=str(site))
        assert error(answer) == f"no site with id {expected}"
    meter_b = meter_of(central, s["admin"], s["b"])
    window = {"a": (utcnow() - timedelta(hours=2)).isoformat(), "z": utcnow().isoformat()}
    query = 'query($m: ID!, $a: DateTime!, $z: DateTime!) { readings(meterId: $m, point: "total_kwh", start: $a, end: $z) { items { value } } }'
    assert error(post(central, viewer, query, m=meter_b, **window)) == f"no meter with id {meter_b}"
    # fleet-wide lists only hold site A
    meters = post(central, viewer, "{ meters { siteId } }")["data"]["meters"]
    assert {m["siteId"] for m in meters} == {str(s["a"])}
    report = post(
        central,
        viewer,
        "query($a: DateTime!, $z: DateTime!) { generateReport(from: $a, to: $z) { sites { siteId } } }",
        **window,
    )
    assert [x["siteId"] for x in report["data"]["generateReport"]["sites"]] == [str(s["a"])]
    fleet = post(central, viewer, "{ fleet(first: 200) { total counts { online } items { site { id } } } }")
    assert [x["site"]["id"] for x in fleet["data"]["fleet"]["items"]] == [str(s["a"])]
    assert fleet["data"]["fleet"]["total"] == 1
    outlook = post(central, viewer, "{ alertOutlook { siteId } }")["data"]["alertOutlook"]
    assert {x["siteId"] for x in outlook} <= {str(s["a"])}
    totals = 'query($s: [ID!]!) { energyTotals(siteIds: $s, firstDay: "2026-01-01", lastDay: "2026-01-02") { fleet { kwh } } }'
    assert error(post(central, viewer, totals, s=[str(s["a"]), str(s["b"])])) == f"no site with id {s['b']}"


def test_managers_change_their_sites_viewers_do_not(central, two_sites):
    s = two_sites
    upsert = (
        'mutation($s: ID!) { upsertMeter(siteId: $s, meter: {externalId: "m1", name: "Renamed"}) { name } }'
    )
    assert error(post(central, s["viewer"], upsert, s=str(s["a"]))) == (
        f"forbidden: site manager role required for site {s['a']}"
    )
    assert error(post(central, s["manager"], upsert, s=str(s["b"]))) == f"no site with id {s['b']}"
    maintenance = (
        "mutation($s: ID!, $m: Boolean!) { setSiteMaintenance(siteId: $s, maintenance: $m) { maintenance } }"
    )
    answer = post(central, s["manager"], maintenance, s=str(s["a"]), m=False)
    assert answer["data"]["setSiteMaintenance"] == {"maintenance": False}
    # keys and users stay with admins
    rotate = "mutation($s: ID!) { rotateSiteKey(siteId: $s) { apiKey } }"
    assert error(post(central, s["manager"], rotate, s=str(s["a"]))) == "forbidden: admin role required"


def test_rule_recipients_only_for_those_who_manage_the_site(central, two_sites):
    s = two_sites
    create = (
        'mutation($s: ID!) { createAlertRule(kind: "edge_queue", siteId: $s, '
        'rule: {recipients: ["ops@example.test"]}) { id recipients } }'
    )
    made = post(central, s["manager"], create, s=str(s["a"]))["data"]["createAlertRule"]
    assert made["recipients"] == ["ops@example.test"]
    rules = "query($s: ID) { alertRules(siteId: $s) { id siteId recipients } }"
    seen = {r["id"]: r for r in post(central, s["viewer"], rules, s=str(s["a"]))["data"]["alertRules"]}
    assert seen[made["id"]]["recipients"] == []
    seen = {r["id"]: r for r in post(central, s["manager"], rules, s=str(s["a"]))["data"]["alertRules"]}
    assert seen[made["id"]]["recipients"] == ["ops@example.test"]
    # a global rule is the admin's: its recipients hidden from a site manager, and not changeable by it
    globals_ = [
        r
        for r in post(central, s["manager"], "{ alertRules { id siteId recipients } }")["data"]["alertRules"]
        if r["siteId"] is None
    ]
    assert globals_ and all(r["recipients"] == [] for r in globals_)
    update = "mutation($i: ID!) { updateAlertRule(id: $i, rule: {enabled: true}) { id } }"
    assert error(post(central, s["manager"], update, i=globals_[0]["id"])) == "forbidden: admin role required"
    # rules of other sites are not listed
    every = post(central, s["viewer"], "{ alertRules { siteId } }")["data"]["alertRules"]
    assert {r["siteId"] for r in every} <= {None, str(s["a"])}


def test_admin_grants_sites_in_graphql_and_the_cli(central, central_pg_url, two_sites, capsys):
    s = two_sites
    email = s["manager_email"]
    user = post(central, s["manager"], "{ me { id } }")["data"]["me"]["id"]
    grant_b = (
        'mutation($u: ID!, $s: ID!) { grantSite(userId: $u, siteId: $s, role: "viewer") { siteId role } }'
    )
    assert (
        error(post(central, s["manager"], grant_b, u=user, s=str(s["b"]))) == "forbidden: admin role required"
    )
    rows = post(central, s["admin"], grant_b, u=user, s=str(s["b"]))["data"]["grantSite"]
    assert sorted((r["siteId"], r["role"]) for r in rows) == sorted(
        [(str(s["a"]), "manager"), (str(s["b"]), "viewer")]
    )
    assert len(post(central, s["manager"], "{ sites { id } }")["data"]["sites"]) == 2
    assert main(["user", "revoke", email, str(s["b"]), "--database-url", central_pg_url]) == 0
    assert "as manager" in capsys.readouterr().out
    assert [x["id"] for x in post(central, s["manager"], "{ sites { id } }")["data"]["sites"]] == [
        str(s["a"])
    ]
    assert main(["user", "list", "--database-url", central_pg_url]) == 0
    assert f"{email} (manager): " in capsys.readouterr().out
    assert main(["user", "grant", email, "no such site", "--database-url", central_pg_url]) == 1
    revoke = "mutation($u: ID!, $s: ID!) { revokeSite(userId: $u, siteId: $s) { siteId } }"
    assert (
        error(post(central, s["admin"], revoke, u=user, s=str(s["b"])))
        == f"user {user} has no role at site {s['b']}"
    )


def test_cli_sets_a_password_and_ends_the_users_sessions(central, central_pg_url, monkeypatch):
    import asyncio

    email = asyncio.run(new_user(central_pg_url))
    token = asyncio.run(login(central.url, email))
    assert post(central, token, "{ me { email } }")["data"]["me"]["email"] == email
    monkeypatch.setenv("NEW_PASSWORD", "a password from the cli")
    argv = ["user", "password", email, "--password-env", "NEW_PASSWORD", "--database-url", central_pg_url]
    assert main(argv) == 0
    ended = httpx.post(
        central.url, json={"query": "{ me { email } }"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert ended.status_code == 401 and "session ended" in ended.text
    login_doc = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { __typename } }"
    answer = httpx.post(
        central.url, json={"query": login_doc, "variables": {"e": email, "p": "a password from the cli"}}
    )
    assert answer.json()["data"]["login"]["__typename"] == "LoginSuccess"
    monkeypatch.setenv("NEW_PASSWORD", "short")
    assert main(argv) == 1  # the rules of the API: a clear error, nothing changed
