"""A broken meter's power point serves every bad value in turn, one per read, however often it is polled."""

import math

from edge_agent.bacnet.app import wait_bound
from edge_agent.simulator import SimulatedMeter
from edge_agent.simulator.meter import BAD_VALUES
from tests.edge_agent.conftest import client_app

BLOCK = 48


async def test_every_bad_value_is_served_within_one_cycle_of_reads_between_ticks():
    meter = SimulatedMeter(f"127.0.{BLOCK}.10/8:47808", 4_048_000, "broken meter", n_points=2)
    meter.bad_values = True
    meter.tick()
    await wait_bound(meter.app)
    app = client_app(BLOCK)
    try:
        # No tick between the reads: the cycle moves on with each read, not with the simulator's clock.
        served = [
            float(await app.read_property(f"127.0.{BLOCK}.10", "analog-input,1", "present-value"))
            for _ in range(2 * len(BAD_VALUES))
        ]
    finally:
        app.close()
        meter.close()
    bad, good = served[0::2], served[1::2]
    assert math.isnan(bad[0]) and bad[1:] == [math.inf, -math.inf, BAD_VALUES[3]]
    assert all(math.isfinite(v) and 0 < v < 1e6 for v in good)
