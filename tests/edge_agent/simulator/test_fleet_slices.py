"""One simulated fleet spread over several processes: each slice numbers its meters as the whole fleet does."""

from edge_agent.simulator.fleet import SimulatorFleet


def test_slices_describe_the_whole_fleet_and_no_meter_twice():
    whole = SimulatorFleet(10, "127.61.0.10", points=2).meters_config()["meters"]
    slices = [
        SimulatorFleet(n, "127.61.0.10", points=2, first=first) for first, n in ((0, 4), (4, 3), (7, 3))
    ]
    assert [m for s in slices for m in s.meters_config()["meters"]] == whole
    assert whole[7]["id"] == "meter-008" and whole[7]["bacnet_ip"] == "127.61.0.17"
    assert whole[7]["bacnet_device_id"] == 100_008
