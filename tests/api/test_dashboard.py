"""Dashboard operations over real HTTP: login, roles, sites, meters, readings with paging, alerts, limits."""

from datetime import timedelta

import pytest
from gql.transport.exceptions import TransportQueryError

from causes import Cause, text
from db.central.models import Alert
from db.central.rollups.queue import flush_rollups
from db.clock import utcnow
from tests.api.conftest import execute, http_client, in_session, new_site
from tests.api.test_edge import readings, upload

READINGS = """
query($m: ID!, $p: String!, $s: DateTime!, $e: DateTime!, $r: Resolution!, $f: Int!, $a: String) {
  readings(meterId: $m, point: $p, start: $s, end: $e, resolution: $r, first: $f, after: $a) {
    items { ts value min max count } pageInfo { hasNextPage endCursor }
  }
}"""


async def test_upload_then_query_back_raw_paged_and_hourly(central, central_pg_url, admin_token):
    site_id, key = await new_site(central_pg_url)
    start = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    await upload(central.url, key, readings("meter-new", 120, start))
    await in_session(central_pg_url, flush_rollups)  # the summary follows uploads within seconds
    meters = await execute(
        http_client(central.url, token=admin_token),
        "query($s: ID) { meters(siteId: $s) { id externalId discovered dataPoints { name unit lastValue } } }",
        s=str(site_id),
    )
    [meter] = meters["meters"]
    assert meter["externalId"] == "meter-new" and meter["discovered"] is True
    assert meter["dataPoints"] == [{"name": "total_kwh", "unit": "kWh", "lastValue": 219.0}]
    client = http_client(central.url, token=admin_token)
    span = {
        "m": meter["id"],
        "p": "total_kwh",
        "s": start.isoformat(),
        "e": (start + timedelta(hours=3)).isoformat(),
    }
    values, after = [], None
    async with client as session:
        from gql import gql

        while True:
            page = await session.execute(
                gql(READINGS), variable_values={**span, "r": "RAW", "f": 50, "a": after}
            )
            page = page["readings"]
            values += [item["value"] for item in page["items"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        hourly = await session.execute(
            gql(READINGS), variable_values={**span, "r": "HOUR", "f": 10, "a": None}
        )
    assert values == [100.0 + i for i in range(120)]
    buckets = hourly["readings"]["items"]
    # a kWh register per hour: the energy used in the hour (the interval across 1:00 goes to the first)
    assert [(b["count"], b["min"], b["max"], b["value"]) for b in buckets] == [
        (60, 100.0, 159.0, 60.0),
        (60, 160.0, 219.0, 59.0),
    ]


async def test_sites_show_status_and_create_site_key_works(central, central_pg_url, admin_token):
    client = http_client(central.url, token=admin_token)
    created = await execute(
        client,
        'mutation { createSite(name: "Plant 7", timezone: "Europe/Paris") { apiKey site { id status } } }',
    )
    key = created["createSite"]["apiKey"]
    assert created["createSite"]["site"]["status"] == "unknown"
    status = {"agentVersion": "2.0", "queueDepth": 0, "meters": []}
    await execute(
        http_client(central.url, key=key),
        "mutation($s: HeartbeatInput!) { heartbeat(status: $s) { status } }",
        s=status,
    )
    sites = await execute(
        http_client(central.url, token=admin_token),
        '{ sites(search: "plant 7") { name status agentVersion queueDepth metersTotal todayEnergyKwh } }',
    )
    assert sites["sites"] == [
        {
            "name": "Plant 7",
            "status": "online",
            "agentVersion": "2.0",
            "queueDepth": 0,
            "metersTotal": 0,
            "todayEnergyKwh": None,
        }
    ]


async def test_viewer_is_denied_admin_mutations(central, viewer_token):
    client = http_client(central.url, token=viewer_token)
    with pytest.raises(TransportQueryError) as caught:
        await execute(client, 'mutation { createSite(name: "nope") { apiKey } }')
    assert caught.value.errors[0]["message"] == "forbidden: admin role required"
    me = await execute(http_client(central.url, token=viewer_token), "{ me { role } sites { id } }")
    assert me["me"]["role"] == "viewer"


async def test_site_key_cannot_read_dashboards_or_other_sites(central, central_pg_url):
    other_id, _ = await new_site(central_pg_url)
    _, key = await new_site(central_pg_url)
    for query in (
        "{ sites { id } }",
        f'{{ site(id: "{other_id}") {{ name }} }}',
        f'{{ meters(siteId: "{other_id}") {{ id }} }}',
    ):
        with pytest.raises(TransportQueryError) as caught:
            await execute(http_client(central.url, key=key), query)
        assert caught.value.errors[0]["message"] == text(Cause.NOT_AUTHENTICATED)


async def test_upsert_meter_reaches_site_config(central, central_pg_url, admin_token):
    site_id, key = await new_site(central_pg_url)
    meter = {
        "externalId": "meter-001",
        "name": "Main incomer",
        "bacnetDeviceId": 1001,
        "bacnetAddress": "127.0.0.2",
        "dataPoints": [
            {"name": "total_kwh", "instance": 0, "unit": "kWh", "cumulative": True},
            {"name": "power_kw", "instance": 1},
        ],
    }
    await execute(
        http_client(central.url, token=admin_token),
        "mutation($s: ID!, $m: MeterInput!) { upsertMeter(siteId: $s, meter: $m) { id } }",
        s=str(site_id),
        m=meter,
    )
    config = await execute(
        http_client(central.url, key=key),
        "{ siteConfig { meters { externalId bacnetDeviceId dataPoints { name instance cumulative } } } }",
    )
    assert config["siteConfig"]["meters"] == [
        {
            "externalId": "meter-001",
            "bacnetDeviceId": 1001,
            "dataPoints": [  # in the order they were defined
                {"name": "total_kwh", "instance": 0, "cumulative": True},
                {"name": "power_kw", "instance": 1, "cumulative": False},
            ],
        }
    ]


async def test_alerts_list_and_acknowledge(central, central_pg_url, admin_token):
    site_id, _ = await new_site(central_pg_url)

    async def add_alert(session):
        alert = Alert(site_id=site_id, kind="heartbeat_missing", severity="critical", message="no heartbeat")
        session.add(alert)
        await session.flush()
        return alert.id

    alert_id = await in_session(central_pg_url, add_alert)
    client = http_client(central.url, token=admin_token)
    listed = await execute(
        client, "query($s: ID) { alerts(siteId: $s) { id kind siteName acknowledgedAt } }", s=str(site_id)
    )
    assert [a["id"] for a in listed["alerts"]] == [str(alert_id)]
    acked = await execute(
        http_client(central.url, token=admin_token),
        "mutation($i: ID!) { acknowledgeAlert(id: $i) { acknowledgedBy acknowledgedAt } }",
        i=str(alert_id),
    )
    assert acked["acknowledgeAlert"]["acknowledgedBy"].startswith("admin-")


async def test_depth_and_alias_limits_reject(strict_central, admin_token):
    server = strict_central
    client = http_client(server.url, token=admin_token)
    with pytest.raises(TransportQueryError) as caught:
        await execute(client, "{ sites { meters { dataPoints { name } } } }")
    assert "exceeds maximum operation depth of 2" in caught.value.errors[0]["message"]
    with pytest.raises(TransportQueryError) as caught:
        await execute(
            http_client(server.url, token=admin_token),
            "{ a: me { id } b: me { id } c: me { id } d: me { id } }",
        )
    assert "aliases" in caught.value.errors[0]["message"]
    shallow = await execute(http_client(server.url, token=admin_token), "{ a: sites { id } b: me { role } }")
    assert shallow["b"] == {"role": "admin"}


async def test_times_with_no_utc_form_get_a_clear_answer(central, central_pg_url, admin_token):
    """9999-12-31 late west of UTC (or 0001-01-01 early east of it) has no UTC form: an upload refuses that
    reading with its reason and stores the rest; a query gives a GraphQL error, not a server error."""
    site_id, key = await new_site(central_pg_url)
    start = utcnow().replace(second=0, microsecond=0) - timedelta(hours=1)
    items = readings("meter-far", 2, start)
    items.insert(1, {**items[0], "timestamp": "9999-12-31T23:59:59-23:59"})
    answer = await upload(central.url, key, items)
    assert (answer["new"], answer["rejected"]) == (2, 1)
    assert answer["rejections"][0]["index"] == 1 and "1-9999" in answer["rejections"][0]["reason"]
    meters = await execute(
        http_client(central.url, token=admin_token),
        "query($s: ID) { meters(siteId: $s) { id } }",
        s=str(site_id),
    )
    span = {"m": meters["meters"][0]["id"], "p": "total_kwh", "r": "RAW", "f": 10, "a": None}
    client = http_client(central.url, token=admin_token)
    for far in ("9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"):
        with pytest.raises(TransportQueryError) as refused:
            await execute(client, READINGS, **span, s=far, e=start.isoformat())
        assert "no UTC form" in str(refused.value) and "internal" not in str(refused.value).lower()
