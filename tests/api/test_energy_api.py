"""The energy query over real HTTP: consumption per hour and 15 minutes, qualities, paging."""

from datetime import timedelta

import pytest
from gql.transport.exceptions import TransportQueryError

from db.clock import clock
from tests.api.conftest import execute, http_client, new_site
from tests.api.test_edge import readings, upload

ENERGY = """
query($m: ID!, $p: String!, $s: DateTime!, $e: DateTime!, $r: EnergyResolution!, $f: Int!, $a: String) {
  energy(meterId: $m, point: $p, start: $s, end: $e, resolution: $r, first: $f, after: $a) {
    cumulative timezone
    items { start end count consumption firstValue lastValue completeness quality partial peakDemand }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def test_energy_gives_consumption_per_bucket_with_quality(central, central_pg_url, admin_token):
    _site_id, key = await new_site(central_pg_url, timezone="Europe/Berlin")
    start = clock().now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=4)
    items = readings("meter-e", 120, start)  # 100 … 219 kWh, one a minute, for two hours
    items[30]["quality"] = 1  # one estimated reading
    del items[61:91]  # half an hour lost
    await upload(central.url, key, items)
    client = http_client(central.url, token=admin_token)
    meters = await execute(client, "{ meters { id externalId } }")
    [meter] = [m for m in meters["meters"] if m["externalId"] == "meter-e"]
    span = {
        "m": meter["id"],
        "p": "total_kwh",
        "s": start.isoformat(),
        "e": (start + timedelta(hours=4)).isoformat(),
    }
    hourly = (
        await execute(http_client(central.url, token=admin_token), ENERGY, **span, r="HOUR", f=10, a=None)
    )["energy"]
    assert hourly["cumulative"] is True and hourly["timezone"] == "Europe/Berlin"
    first, second = hourly["items"]
    assert (first["consumption"], second["consumption"]) == (60.0, 59.0)
    assert (first["firstValue"], first["lastValue"], second["lastValue"]) == (100.0, 159.0, 219.0)
    assert first["quality"] == "UNCERTAIN" and first["partial"] is False  # the estimated reading
    assert second["quality"] == "UNCERTAIN" and second["partial"] is True  # the lost half hour
    assert first["peakDemand"] == 60.0  # 15 kWh per quarter = 60 kW
    quarters, after = [], None
    while True:
        page = (
            await execute(
                http_client(central.url, token=admin_token), ENERGY, **span, r="QUARTER_HOUR", f=3, a=after
            )
        )["energy"]
        quarters += page["items"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(quarters) == 8 and sum(q["consumption"] for q in quarters) == 119.0
    assert [q["quality"] for q in quarters[4:7]] == ["UNCERTAIN"] * 3
    assert quarters[5]["count"] == 0 and quarters[5]["consumption"] == 15.0  # the gap, spread: no spike
    assert quarters[7]["quality"] == "GOOD"


TOTALS = """
query($ids: [ID!]!, $a: Date!, $b: Date!) {
  energyTotals(siteIds: $ids, firstDay: $a, lastDay: $b, resolution: DAY) {
    sites { siteId totals { label kwh quality } } fleet { label kwh quality points }
  }
}"""


async def test_fleet_totals_over_http_equal_the_sum_of_sites(central, central_pg_url, admin_token):
    start = clock().now().replace(minute=0, second=0, microsecond=0) - timedelta(days=2)
    ids = []
    for zone, value0 in (("Europe/Berlin", 0.0), ("America/New_York", 5000.0)):
        site_id, key = await new_site(central_pg_url, timezone=zone)
        items = readings("meter-t", 36 * 60, start, value0=value0)
        for n in range(0, len(items), 1000):  # the API takes at most 1,000 readings per batch
            assert (await upload(central.url, key, items[n : n + 1000]))["new"] > 0
        ids.append(str(site_id))
    day = (start + timedelta(days=1)).date()
    result = (
        await execute(
            http_client(central.url, token=admin_token), TOTALS, ids=ids, a=day.isoformat(), b=day.isoformat()
        )
    )["energyTotals"]
    [fleet] = result["fleet"]
    parts = [t["kwh"] for s in result["sites"] for t in s["totals"]]
    assert len(parts) == 2 and fleet["kwh"] == sum(parts) and fleet["points"] == 2


SET_TARIFF = """
mutation($s: ID!, $t: TariffInput) {
  setSiteTariff(siteId: $s, tariff: $t) { currency defaultPricePerKwh demandChargePerKw bands { days startHour } }
}"""
WEEKDAY_PEAK = {
    "currency": "EUR",
    "defaultPricePerKwh": 0.25,
    "demandChargePerKw": 10.0,
    "bands": [{"days": [0, 1, 2, 3, 4, 5, 6], "startHour": 0, "endHour": 24, "pricePerKwh": 0.5}],
}


async def test_a_site_tariff_prices_each_bucket(central, central_pg_url, admin_token):
    site_id, key = await new_site(central_pg_url, timezone="America/New_York")
    start = clock().now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    await upload(central.url, key, readings("meter-c", 121, start))  # 120 kWh over two hours
    admin = http_client(central.url, token=admin_token)
    with pytest.raises(TransportQueryError) as caught:
        await execute(admin, SET_TARIFF, s=str(site_id), t={**WEEKDAY_PEAK, "currency": "euro"})
    assert "three-letter ISO code" in caught.value.errors[0]["message"]
    with pytest.raises(TransportQueryError) as caught:
        bad = {**WEEKDAY_PEAK, "bands": [{**WEEKDAY_PEAK["bands"][0], "endHour": 25}]}
        await execute(http_client(central.url, token=admin_token), SET_TARIFF, s=str(site_id), t=bad)
    assert "0 <= start_hour < end_hour <= 24" in caught.value.errors[0]["message"]
    stored = await execute(
        http_client(central.url, token=admin_token), SET_TARIFF, s=str(site_id), t=WEEKDAY_PEAK
    )
    assert stored["setSiteTariff"]["currency"] == "EUR"
    meters = await execute(http_client(central.url, token=admin_token), "{ meters { id externalId } }")
    [meter] = [m for m in meters["meters"] if m["externalId"] == "meter-c"]
    query = """query($m: ID!, $s: DateTime!, $e: DateTime!, $r: EnergyResolution!) {
      energy(meterId: $m, point: "total_kwh", start: $s, end: $e, resolution: $r) {
        currency items { consumption cost demandCost peakDemand } } }"""
    span = {"m": meter["id"], "s": start.isoformat(), "e": (start + timedelta(hours=3)).isoformat()}
    hourly = (await execute(http_client(central.url, token=admin_token), query, **span, r="HOUR"))["energy"]
    assert hourly["currency"] == "EUR"
    # the newest reading opens a third hour that has no consumption yet
    assert [(i["consumption"], i["cost"]) for i in hourly["items"]] == [
        (60.0, 30.0),
        (60.0, 30.0),
        (None, None),
    ]
    monthly = (await execute(http_client(central.url, token=admin_token), query, **span, r="MONTH"))["energy"]
    assert sum(i["cost"] for i in monthly["items"]) == 60.0
    assert max(i["demandCost"] for i in monthly["items"]) == 600.0  # 60 kW peak x 10 EUR/kW
    await execute(http_client(central.url, token=admin_token), SET_TARIFF, s=str(site_id), t=None)
    hourly = (await execute(http_client(central.url, token=admin_token), query, **span, r="HOUR"))["energy"]
    assert hourly["currency"] is None and hourly["items"][0]["cost"] is None


async def test_readings_name_their_quality(central, central_pg_url, admin_token):
    _site_id, key = await new_site(central_pg_url)
    start = clock().now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    items = readings(
        "meter-q", 3, start, point="power_kw"
    )  # instantaneous: a bucket's quality is its readings'
    for item in items:
        item["unit"] = "kW"
    items[1]["quality"] = 1
    await upload(central.url, key, items)
    meters = await execute(http_client(central.url, token=admin_token), "{ meters { id externalId } }")
    [meter] = [m for m in meters["meters"] if m["externalId"] == "meter-q"]
    query = """query($m: ID!, $s: DateTime!, $e: DateTime!) {
      readings(meterId: $m, point: "power_kw", start: $s, end: $e, resolution: MINUTE) {
        items { quality dataQuality } } }"""
    end = (start + timedelta(hours=1)).isoformat()
    page = await execute(
        http_client(central.url, token=admin_token), query, m=meter["id"], s=start.isoformat(), e=end
    )
    assert [i["dataQuality"] for i in page["readings"]["items"]] == ["GOOD", "UNCERTAIN", "GOOD"]
