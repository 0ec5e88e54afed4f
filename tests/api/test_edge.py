"""Edge operations over real HTTP against a real server process on PostgreSQL."""

import uuid
from datetime import datetime, timedelta

import pytest
from gql.transport.exceptions import TransportServerError

from db.clock import utcnow
from db.wire import UPLOAD_READINGS_DOCUMENT
from tests.api.conftest import execute, http_client, new_site

UPLOAD = UPLOAD_READINGS_DOCUMENT  # the edge agent's own request

HEARTBEAT = """
mutation($status: HeartbeatInput!) { heartbeat(status: $status) { siteId status receivedAt } }"""


def readings(
    meter: str, count: int, start: datetime, point: str = "total_kwh", value0: float = 100.0
) -> list:
    """count readings one minute apart."""
    return [
        {
            "meter_external_id": meter,
            "data_point": point,
            "timestamp": (start + timedelta(minutes=i)).isoformat(),
            "value": value0 + i,
            "unit": "kWh",
            "quality": 0,
        }
        for i in range(count)
    ]


async def upload(url: str, key: str, items: list, batch_id: str | None = None) -> dict:
    """Upload one batch and return the result object."""
    batch = {"batchId": batch_id or uuid.uuid4().hex, "readings": items}
    return (await execute(http_client(url, key=key), UPLOAD, batch=batch))["uploadReadings"]


async def test_authenticate_site_returns_own_site(central, central_pg_url):
    site_id, key = await new_site(central_pg_url, timezone="Europe/Berlin")
    result = await execute(
        http_client(central.url, key=key), "mutation { authenticateSite { siteId name timezone } }"
    )
    assert result["authenticateSite"]["siteId"] == str(site_id)
    assert result["authenticateSite"]["timezone"] == "Europe/Berlin"


@pytest.mark.parametrize("key", [None, "mk_deadbeef_not-a-real-key"])
async def test_missing_or_wrong_key_is_http_401(central, key):
    with pytest.raises(TransportServerError) as caught:
        await execute(http_client(central.url, key=key), "mutation { authenticateSite { siteId } }")
    assert caught.value.code == 401


async def test_upload_replay_and_duplicates(central, central_pg_url):
    _, key = await new_site(central_pg_url)
    start = utcnow().replace(microsecond=0) - timedelta(hours=2)
    items = readings("meter-001", 50, start)
    first = await upload(central.url, key, items, batch_id="batch-1")
    assert first == {
        "__typename": "UploadResult",
        "batchId": "batch-1",
        "new": 50,
        "duplicates": 0,
        "rejected": 0,
        "replayed": False,
        "rejections": [],
    }
    replay = await upload(central.url, key, items, batch_id="batch-1")
    assert replay["replayed"] is True and replay["new"] == 50 and replay["duplicates"] == 0
    overlapping = await upload(central.url, key, readings("meter-001", 60, start), batch_id="batch-2")
    assert (overlapping["new"], overlapping["duplicates"], overlapping["replayed"]) == (10, 50, False)


async def test_mixed_valid_and_invalid_batch(central, central_pg_url):
    _, key = await new_site(central_pg_url)
    start = utcnow().replace(microsecond=0) - timedelta(hours=1)
    items = readings("meter-001", 5, start)
    items[1] = {**items[1], "timestamp": "2024-01-01T00:00:00"}  # no zone
    items[3] = {**items[3], "value": "not a number"}
    items.append({"meter_external_id": "meter-001"})
    result = await upload(central.url, key, items)
    assert (result["new"], result["duplicates"], result["rejected"]) == (3, 0, 3)
    assert [r["index"] for r in result["rejections"]] == [1, 3, 5]
    assert "timestamp" in result["rejections"][0]["reason"]


async def test_whole_batch_refused_when_not_a_list_or_too_big(central, central_pg_url):
    _, key = await new_site(central_pg_url)
    refused = await upload(central.url, key, {"not": "a list"})
    assert refused["__typename"] == "UploadRejected"
    start = utcnow() - timedelta(days=4)  # 5,001 minutes, all in the past
    too_big = await upload(central.url, key, readings("m", 5001, start))
    assert too_big["__typename"] == "UploadRejected" and "BATCH_SIZE" in too_big["reason"]


async def test_heartbeat_sets_status_and_site_config_is_own(central, central_pg_url):
    _, key = await new_site(central_pg_url)
    _, other_key = await new_site(central_pg_url)
    await upload(central.url, other_key, readings("other-meter", 1, utcnow() - timedelta(minutes=5)))
    status = {"agentVersion": "1.0", "queueDepth": 3, "meters": [{"externalId": "m1", "reachable": False}]}
    ack = (await execute(http_client(central.url, key=key), HEARTBEAT, status=status))["heartbeat"]
    assert ack["status"] == "degraded"
    status["meters"][0]["reachable"] = True
    ack = (await execute(http_client(central.url, key=key), HEARTBEAT, status=status))["heartbeat"]
    assert ack["status"] == "online"
    config = await execute(
        http_client(central.url, key=key),
        "{ siteConfig { siteId siteName collectionIntervalSeconds meters { externalId dataPoints { name } } } }",
    )
    assert config["siteConfig"]["meters"] == []  # the other site's discovered meter is not visible here
