"""A site key cannot create unbounded state: meter and point caps on uploads, heartbeat field limits."""

from datetime import timedelta

import pytest
from gql.transport.exceptions import TransportQueryError

from db.clock import utcnow
from db.inventory import MAX_METERS_PER_SITE, MAX_POINTS_PER_METER
from tests.api.conftest import execute, http_client, login, new_site, new_user
from tests.api.test_edge import HEARTBEAT, upload


def reading(meter: str, point: str, minutes_ago: int = 5) -> dict:
    """One reading of meter/point."""
    return {
        "meter_external_id": meter,
        "data_point": point,
        "timestamp": (utcnow().replace(microsecond=0) - timedelta(minutes=minutes_ago)).isoformat(),
        "value": 1.0,
        "unit": "kWh",
        "quality": 0,
    }


async def test_uploads_stop_registering_meters_and_points_at_the_limits(central, central_pg_url):
    _, key = await new_site(central_pg_url)
    first = await upload(
        central.url, key, [reading(f"m{n:04d}", "total_kwh") for n in range(MAX_METERS_PER_SITE)]
    )
    assert first["new"] == MAX_METERS_PER_SITE and first["rejected"] == 0

    second = await upload(
        central.url, key, [reading("m0000", "power_kw"), reading("one-too-many", "total_kwh")]
    )
    assert (second["new"], second["rejected"]) == (1, 1)  # a new point of a known meter is still fine
    assert second["rejections"] == [
        {
            "index": 1,
            "reason": f"meter limit reached: a site has at most {MAX_METERS_PER_SITE} meters "
            "(one-too-many/total_kwh)",
        }
    ]

    points = [reading("m0001", f"p{n:03d}") for n in range(MAX_POINTS_PER_METER + 5)]
    third = await upload(central.url, key, points)
    # m0001 had one point already: 199 more fit, the last 6 are refused, each with its reason
    assert (third["new"], third["rejected"]) == (MAX_POINTS_PER_METER - 1, 6)
    assert [r["index"] for r in third["rejections"]] == list(range(MAX_POINTS_PER_METER - 1, len(points)))
    assert all(
        r["reason"].startswith("point limit reached: a meter has at most 200 points")
        for r in third["rejections"]
    )

    again = await upload(
        central.url, key, [reading("m0001", "p000", 4), reading("one-too-many", "total_kwh", 4)]
    )
    assert (again["new"], again["rejected"]) == (1, 1)  # known points keep working, the refusal stays


async def test_heartbeat_fields_out_of_bounds_are_refused_and_nothing_is_stored(central, central_pg_url):
    site_id, key = await new_site(central_pg_url)
    good = {"agentVersion": "1.2.3", "queueDepth": 3, "meters": []}
    await execute(http_client(central.url, key=key), HEARTBEAT, status=good)
    bad = [
        ({**good, "agentVersion": "x" * 100_000}, "agentVersion must have 1 to 64 characters"),
        ({**good, "queueDepth": -1}, "queueDepth must not be negative"),
        ({**good, "syncSuccessRate": 7.0}, "syncSuccessRate must be between 0 and 1"),
        (
            {**good, "meters": [{"externalId": "m", "reachable": False, "lastError": "e" * 5000}]},
            "lastError must have at most 1000 characters",
        ),
    ]
    for status, reason in bad:
        with pytest.raises(TransportQueryError) as caught:
            await execute(http_client(central.url, key=key), HEARTBEAT, status=status)
        assert reason in str(caught.value)
    admin = await login(central.url, await new_user(central_pg_url, "admin"))
    site = await execute(
        http_client(central.url, token=admin),
        "query($id: ID!) { site(id: $id) { agentVersion queueDepth } }",
        id=str(site_id),
    )
    assert site["site"] == {"agentVersion": "1.2.3", "queueDepth": 3}
