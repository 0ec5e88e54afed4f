"""Simulated BACnet/IP electricity meters (bacpypes3), for the demo, the tests and the benchmarks."""

from edge_agent.simulator.fleet import SimulatorFleet, meter_address
from edge_agent.simulator.meter import POINTS, SimulatedMeter

__all__ = ["POINTS", "SimulatedMeter", "SimulatorFleet", "meter_address"]
