"""Large answers: a 2,000-object list sent segmented or read by index, and RPM batches shrunk (block 47)."""

from db.edge.outbox import Outbox
from edge_agent.bacnet.app import wait_bound
from edge_agent.discovery import discover, read_object_list
from edge_agent.meters import parse_meters
from edge_agent.simulator import SimulatedMeter
from tests.edge_agent.conftest import client_app, make_collector

BLOCK = 47
EXTRA = 2000


async def _big_meter(index: int, segmentation: bool) -> SimulatedMeter:
    meter = SimulatedMeter(
        f"127.0.{BLOCK}.{10 + index}/8:47808",
        4_047_000 + index,
        f"big meter {index}",
        n_points=2,
        segmentation=segmentation,
        extra_objects=EXTRA,
    )
    await wait_bound(meter.app)
    return meter


async def test_a_2000_object_list_is_read_whole_when_segmented_and_by_index_when_not():
    segmented, unsegmented = await _big_meter(0, True), await _big_meter(1, False)
    app = client_app(BLOCK)
    try:
        whole = await read_object_list(app, f"127.0.{BLOCK}.10", 4_047_000, 2.0)
        by_index = await read_object_list(app, f"127.0.{BLOCK}.11", 4_047_001, 2.0)
        # device + network port + 2 analog inputs + the extra binary values
        assert len(whole) == len(by_index) == EXTRA + 4
        assert ("binary-value", EXTRA - 1) in {(str(o[0]), int(o[1])) for o in by_index}
        devices = await discover(app, [f"127.0.{BLOCK}.10", f"127.0.{BLOCK}.11"], 2.0)
        assert [(d.device_id, sorted(o.name for o in d.objects)) for d in devices] == [
            (4_047_000, ["current_kw", "total_kwh"]),
            (4_047_001, ["current_kw", "total_kwh"]),
        ]
    finally:
        app.close()
        segmented.close()
        unsegmented.close()


async def test_rpm_batches_shrink_for_a_device_that_cannot_segment(edge_engine):
    meter = SimulatedMeter(
        f"127.0.{BLOCK}.20/8:47808", 4_047_020, "small buffers", n_points=10, segmentation=False
    )
    app = client_app(BLOCK)
    app.device_object.maxApduLengthAccepted = 128  # answers bigger than this need segmentation
    outbox = Outbox(edge_engine)
    await outbox.open()
    try:
        config = {
            "meters": [
                {
                    "id": "small",
                    "name": "small buffers",
                    "bacnet_ip": f"127.0.{BLOCK}.20",
                    "data_points": [
                        {"name": f"p{i}", "object_type": "analogInput", "instance": i} for i in range(10)
                    ],
                }
            ]
        }
        collector = make_collector(app, outbox, None)
        collector.set_meters(parse_meters(config))
        result = await collector.poll_once()
        assert (result.meters_ok, result.values) == (1, 10), collector.health["small"].last_error
        profile = collector.profiles["small"]
        assert profile.rpm is True and profile.points_per_request < 10
        again = await collector.poll_once()
        assert again.values == 10
    finally:
        app.close()
        meter.close()
