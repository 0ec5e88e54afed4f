"""Collection half of `meterit bench edge`: values/s and agent CPU per 1,000 values against simulated meters.

The simulator runs in its own process (`meterit simulate`) so that the CPU measured here is the agent's
alone: BACnet requests, decoding, and committing each poll to a SQLite outbox (WAL, synchronous=FULL).
"""

import time

from bench.edge_rig import polling_rig

BLOCK = "127.0.60"


async def measure_collection(meters: int, points: int, polls: int) -> dict:
    """Poll `meters` × `points` back to back `polls` times; return values/s and CPU ms per 1,000 values."""
    async with polling_rig(BLOCK, 3_999_060, meters, points) as collector:
        values = 0
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(polls):
            values += (await collector.poll_once()).values
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "values": values,
        "expected": meters * points * polls,
        "values_per_s": values / wall,
        "cpu_ms_per_1000": cpu * 1000 / max(values, 1) * 1000,
        "wall_s": wall,
    }


def site_projection(
    cpu_ms_per_1000: float, meters: int = 100, points: int = 10, interval: float = 10.0
) -> float:
    """Share of one core the agent needs for `meters` × `points` every `interval` seconds."""
    values_per_s = meters * points / interval
    return values_per_s * cpu_ms_per_1000 / 1000 / 1000
