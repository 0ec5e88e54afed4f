"""The demo's first 30 days: simulated history queued in the edge's outbox, so its uploader sends it to central.

The readings take the normal path (edge outbox -> uploader -> uploadReadings -> the energy summary), generated at
accelerated time: a daily power curve per meter every 15 minutes and the energy register that integrates it,
ending at the simulator's starting register so the live readings continue it without a reset. They carry
quality 1 (uncertain: estimated), which the API returns with every reading, so they never pass for measured,
and their span is recorded at the edge, which reports it with every heartbeat: both dashboards mark it simulated.
"""

import math
import random
from datetime import datetime, timedelta

from db.edge.outbox import Outbox, Reading
from db.engine import make_engine
from edge_agent.site_sync import record_simulated_history

HISTORY_DAYS = 30
STEP = timedelta(minutes=15)
SIMULATED_QUALITY = 1  # uncertain: estimated, not measured
ENERGY_POINT, POWER_POINT = "total_kwh", "current_kw"
BASE_KW = 40.0  # the simulator's base power (edge_agent/simulator/meter.py)
RECENT = timedelta(hours=24)  # the edge dashboard's charts also show the last day


def power_kw(ts: datetime, phase: float) -> float:
    """A working-day curve around the simulator's base power: high by day, low at night, lower at weekends."""
    hour = ts.hour + ts.minute / 60
    day = 0.6 + 0.5 * max(0.0, math.sin((hour - 6) / 14 * math.pi)) if 6 <= hour <= 20 else 0.6
    weekend = 0.7 if ts.weekday() >= 5 else 1.0
    return BASE_KW * day * weekend * (1 + 0.05 * math.sin(hour + phase))


def history_size(meters: int, days: int = HISTORY_DAYS) -> int:
    """How many readings the history holds: its bound (2 points per meter every 15 minutes)."""
    return meters * 2 * int(timedelta(days=days) / STEP)


def history(
    meter_ids: list[str], end: datetime, energy_end: float, days: int = HISTORY_DAYS
) -> list[Reading]:
    """Every meter's power and energy every 15 minutes over `days` before `end`; energy ends at energy_end."""
    steps = int(timedelta(days=days) / STEP)
    start = end - steps * STEP
    readings: list[Reading] = []
    for index, meter in enumerate(meter_ids):
        phase = random.Random(index).random() * math.tau
        powers = [power_kw(start + i * STEP, phase) for i in range(steps)]
        energy = energy_end - sum(powers) * (STEP / timedelta(hours=1))
        for i, kw in enumerate(powers):
            ts = start + i * STEP
            readings.append(Reading(meter, POWER_POINT, ts, round(kw, 3), "kilowatts", SIMULATED_QUALITY))
            readings.append(
                Reading(meter, ENERGY_POINT, ts, round(energy, 3), "kilowatt-hours", SIMULATED_QUALITY)
            )
            energy += kw * (STEP / timedelta(hours=1))
    return readings


async def queue_history(
    edge_url: str, meter_ids: list[str], end: datetime, energy_end: float, days: int = HISTORY_DAYS
) -> int:
    """Write the history into the (migrated) edge outbox, the last day also into its recent readings; a count."""
    engine = make_engine(edge_url, pool_size=1)
    try:
        outbox = Outbox(engine)
        await outbox.open()
        readings = history(meter_ids, end, energy_end, days)
        old = [r for r in readings if r.ts < end - RECENT]
        await outbox.add(old, keep_recent=False)
        await outbox.add([r for r in readings if r.ts >= end - RECENT])
        if readings:
            await record_simulated_history(engine, min(r.ts for r in readings), max(r.ts for r in readings))
        return len(readings)
    finally:
        await engine.dispose()
