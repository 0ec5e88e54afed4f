"""The local GraphQL API over real HTTP and websockets, with simulated meters and central down."""

import json

from tests.edge_agent.local_api.site import take, ws_client

METERS = """{ meters { externalId name state reachable lastError dataPoints
  latest { dataPoint value unit quality ageSeconds stale } } }"""
STATUS = """{ status { collecting lastPollAt queueDepth oldestQueuedAgeSeconds deadLetterCount centralState
  centralReachable centralSince metersTotal metersReachable lastSyncOutcome } }"""


def _all_live(data: dict) -> bool:
    return all(m["state"] == "ok" and len(m["latest"]) == 2 for m in data["meters"])


async def test_meters_show_live_values_units_and_quality(site):
    data = await site.wait_for(METERS, _all_live)
    assert [m["externalId"] for m in data["meters"]] == ["meter-001", "meter-002"]
    latest = {v["dataPoint"]: v for v in data["meters"][0]["latest"]}
    assert latest["total_kwh"]["unit"] == "kilowatt-hours"
    assert latest["current_kw"]["unit"] == "kilowatts"
    assert latest["total_kwh"]["value"] > 0
    assert latest["total_kwh"]["quality"] == 0
    assert (
        0 <= latest["total_kwh"]["ageSeconds"] < 60 and latest["total_kwh"]["stale"] is False
    )  # just polled


async def test_status_with_central_down_reports_it_and_the_queue_grows(site):
    first = await site.wait_for(STATUS, lambda d: d["status"]["centralReachable"] is False)
    status = first["status"]
    assert status["collecting"] is True
    assert status["centralState"] == "unreachable"
    assert status["centralSince"] is not None
    assert status["lastPollAt"] is not None
    assert status["metersTotal"] == 2
    later = await site.wait_for(STATUS, lambda d: d["status"]["queueDepth"] > status["queueDepth"])
    assert later["status"]["oldestQueuedAgeSeconds"] > 0


async def test_trigger_sync_with_central_down_keeps_everything_queued(site):
    before = (await site.data(STATUS))["status"]["queueDepth"]
    body = await site.data("mutation { triggerSync { outcome acknowledged queueDepth errors } }")
    summary = body["triggerSync"]
    assert summary["outcome"] == "unreachable"
    assert summary["acknowledged"] == 0
    assert summary["queueDepth"] >= before
    log = await site.data("{ syncLog(limit: 5) { outcome success errorMessage } }")
    assert log["syncLog"][0]["success"] is False
    status = await site.data(STATUS)
    assert status["status"]["lastSyncOutcome"] == log["syncLog"][0]["outcome"]
    assert (await site.data("{ deadLetters { id reason } }"))["deadLetters"] == []


async def test_readings_of_the_last_24_hours_by_meter_and_point(site):
    query = 'query($p: String) { readings(meter: "meter-001", point: $p) { ts value unit dataPoint } }'
    one = await site.wait_for(query, lambda d: len(d["readings"]) >= 3, variables={"p": "current_kw"})
    rows = one["readings"]
    assert {r["dataPoint"] for r in rows} == {"current_kw"}
    assert [r["ts"] for r in rows] == sorted(r["ts"] for r in rows)
    both = await site.data(query, {"p": None})
    assert {r["dataPoint"] for r in both["readings"]} == {"current_kw", "total_kwh"}
    thin = await site.data('{ readings(meter: "meter-001", point: "current_kw", maxPoints: 2) { ts } }')
    assert 1 <= len(thin["readings"]) <= 3
    assert thin["readings"][-1]["ts"] == rows[-1]["ts"] or thin["readings"][-1]["ts"] > rows[-1]["ts"]


async def test_live_values_subscription_streams_new_readings(site):
    query = 'subscription { liveValues(meter: "meter-002") { meterExternalId dataPoint ts value unit } }'
    batches = await take(ws_client(site.url, site.init_payload), query, 2)
    values = [v for batch in batches for v in batch["liveValues"]]
    assert {v["meterExternalId"] for v in values} == {"meter-002"}
    assert {v["dataPoint"] for v in values} <= {"total_kwh", "current_kw"}
    first_ts = max(v["ts"] for v in batches[0]["liveValues"])
    assert max(v["ts"] for v in batches[1]["liveValues"]) > first_ts


async def test_stop_and_start_collection_are_seen_by_the_status_subscription(site):
    client = ws_client(site.url, site.init_payload)
    stopped = await site.data("mutation { stopCollection { collecting } }")
    assert stopped["stopCollection"]["collecting"] is False
    events = await take(
        client, "subscription { statusChanged { collecting queueDepth centralReachable } }", 1
    )
    assert events[0]["statusChanged"]["collecting"] is False
    started = await site.data("mutation { startCollection { collecting } }")
    assert started["startCollection"]["collecting"] is True


async def test_a_dead_meter_shows_as_unreachable_with_its_error(site, fleet):
    fleet.kill("meter-002")
    try:
        data = await site.wait_for(METERS, lambda d: d["meters"][1]["state"] == "dead")
        dead = data["meters"][1]
        assert dead["reachable"] is False
        assert dead["lastError"]
        assert data["meters"][0]["state"] == "ok"
        status = await site.data(STATUS)
        assert status["status"]["metersReachable"] == 1
    finally:
        fleet.revive("meter-002")
    await site.wait_for(METERS, lambda d: d["meters"][1]["state"] == "ok")


async def test_test_read_one_point_and_an_unknown_point(site):
    body = await site.data(
        'mutation { testRead(meter: "meter-001", point: "total_kwh") { ok error values { name value unit } } }'
    )
    result = body["testRead"]
    assert result["ok"] is True, result
    assert [v["name"] for v in result["values"]] == ["total_kwh"]
    assert result["values"][0]["unit"] == "kilowatt-hours"
    wrong = await site.gql('mutation { testRead(meter: "meter-001", point: "nope") { ok } }')
    assert "no point 'nope'" in wrong["errors"][0]["message"]
    unknown = await site.gql('mutation { testRead(meter: "meter-999") { ok } }')
    assert "unknown meter" in unknown["errors"][0]["message"]


async def test_discovery_lists_devices_and_adds_one_to_the_configuration(site):
    assert (await site.data("{ discoveryRange }"))["discoveryRange"] == "127.0.0.221-127.0.0.222"
    query = """mutation { discoverDevices(addressRange: "127.0.0.221-127.0.0.224") {
      address deviceId name configuredMeter objects { objectType instance name units presentValue } } }"""
    devices = (await site.data(query))["discoverDevices"]
    assert [d["address"] for d in devices] == ["127.0.0.221", "127.0.0.222", "127.0.0.223"]
    assert [d["configuredMeter"] for d in devices] == ["meter-001", "meter-002", None]
    objects = {o["name"]: o for o in devices[2]["objects"]}
    assert objects["total_kwh"]["units"] == "kilowatt-hours"
    assert objects["current_kw"]["objectType"] == "analog-input"

    added = await site.data(
        'mutation { addDiscoveredDevice(address: "127.0.0.223", meterId: "meter-003") { externalId dataPoints } }'
    )
    assert [m["externalId"] for m in added["addDiscoveredDevice"]] == ["meter-001", "meter-002", "meter-003"]
    assert added["addDiscoveredDevice"][2]["dataPoints"] == ["total_kwh", "current_kw"]
    saved = json.loads(open(site.agent.settings.meters_file, encoding="utf-8").read())
    assert [m["id"] for m in saved["meters"]] == ["meter-001", "meter-002", "meter-003"]
    await site.wait_for(METERS, lambda d: len(d["meters"]) == 3 and d["meters"][2]["state"] == "ok")
    # discovery proposes to the site's inventory (central is down here: the change waits, and runs)
    inventory = await site.data(
        "{ inventory { pending pendingOrigin meters { externalId points { name cumulative } } } }"
    )
    assert (inventory["inventory"]["pending"], inventory["inventory"]["pendingOrigin"]) == (True, "discovery")
    found = inventory["inventory"]["meters"][2]["points"]
    assert found == [{"name": "total_kwh", "cumulative": True}, {"name": "current_kw", "cumulative": False}]


async def test_save_meter_config_validates_and_applies(site):
    mutation = (
        """mutation($m: MeterConfigInput!) { saveMeterConfig(meter: $m) { externalId name dataPoints } }"""
    )
    meter = {"id": "meter-003", "name": "Renamed", "bacnetIp": "127.0.0.223",
             "dataPoints": [{"name": "total_kwh", "instance": 0}]}  # fmt: skip
    saved = await site.data(mutation, {"m": meter})
    third = saved["saveMeterConfig"][2]
    assert (third["name"], third["dataPoints"]) == ("Renamed", ["total_kwh"])
    bad = await site.gql(mutation, {"m": {**meter, "dataPoints": [{"name": "x", "instance": -1}]}})
    assert bad["errors"][0]["message"] == (
        "invalid meter configuration: meter 'meter-003': data_points.0.instance: "
        "Input should be greater than or equal to 0"
    )
    banana = {**meter, "dataPoints": [{"name": "x", "objectType": "analog-banana", "instance": 1}]}
    bad = await site.gql(mutation, {"m": banana})
    assert bad["errors"][0]["message"].endswith("unknown BACnet object type 'analog-banana'")
    # the instance has no default: a point at instance 0 by omission would read the wrong object
    bad = await site.gql(mutation, {"m": {**meter, "dataPoints": [{"name": "x"}]}})
    assert (
        "Expected value of type 'DataPointInput' to include required field 'instance'"
        in bad["errors"][0]["message"]
    )


async def test_saved_points_take_bacpypes3_spelling(site):
    mutation = """mutation($m: MeterConfigInput!) { saveMeterConfig(meter: $m) { externalId } }"""
    point = {"name": "total_kwh", "objectType": "analogInput", "instance": 0, "property": "presentValue"}
    meter = {"id": "meter-003", "name": "Spelled", "bacnetIp": "127.0.0.223", "dataPoints": [point]}
    await site.data(mutation, {"m": meter})
    inventory = await site.data("{ inventory { meters { externalId points { objectType property } } } }")
    third = next(m for m in inventory["inventory"]["meters"] if m["externalId"] == "meter-003")
    assert third["points"] == [{"objectType": "analog-input", "property": "present-value"}]


async def test_too_many_aliases_are_refused_before_running(site):
    query = "{ " + " ".join(f"a{i}: status {{ queueDepth }}" for i in range(30)) + " }"
    body = await site.gql(query)
    assert body.get("data") is None
    assert "aliases" in body["errors"][0]["message"].lower()
