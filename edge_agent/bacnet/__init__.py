"""BACnet plumbing shared by the collector, discovery and the simulator (bacpypes3 on explicit addresses)."""
