"""The energy query over real HTTP: consumption per hour and 15 minutes, qualities, paging."""

from datetime import timedelta

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
