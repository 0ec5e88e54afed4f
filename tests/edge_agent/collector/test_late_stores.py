"""Stragglers of a poll round: their answers are committed together, one store at a time, none lost."""

import asyncio

from db.edge.outbox import Reading
from edge_agent.collector import poller
from edge_agent.collector.poller import Collector
from edge_agent.meters import MeterConfig


class CountingOutbox:
    """Records each add() and how many stores of late answers ran at once (the collector's side only)."""

    def __init__(self) -> None:
        self.adds: list[list[Reading]] = []
        self.running = self.most_at_once = 0
        self.full = False
        self.engine = None

    async def add(self, readings: list[Reading]) -> None:
        late = readings[0].meter_external_id != "fast"  # the round's own store may overlap one of them
        self.running += late
        self.most_at_once = max(self.most_at_once, self.running)
        await asyncio.sleep(0.05)  # a commit takes a while: answers arriving meanwhile wait for the next one
        self.adds.append(list(readings))
        self.running -= late


class SlowCollector(Collector):
    """Meter i answers after delays[i] seconds with one value."""

    def __init__(self, outbox, delays: dict[str, float]) -> None:
        super().__init__(None, outbox)
        self.delays = delays

    async def _poll_meter(self, meter: MeterConfig) -> list[Reading]:
        await asyncio.sleep(self.delays[meter.id])
        return [Reading(meter.id, "p", poller.now_ms(), 1.0)]


async def test_late_answers_share_stores_and_every_one_is_kept(monkeypatch):
    async def no_health(*_args):
        return None

    monkeypatch.setattr(poller, "record_meter_health", no_health)
    outbox = CountingOutbox()
    delays = {"fast": 0.0, **{f"late-{i}": 0.1 + 0.002 * i for i in range(40)}}
    collector = SlowCollector(outbox, delays)
    collector.set_meters([MeterConfig(id=m, name=m, bacnet_ip="127.0.0.1") for m in delays])

    result = await collector._poll_all(wait=0.05)
    assert result.values == 1 and len(collector.in_flight) == 40
    await collector.settle()
    for _ in range(100):  # settle returns when the first store is done; the last batch follows it
        if not collector.in_flight and not collector._late_stores:
            break
        await asyncio.sleep(0.02)

    late = [r.meter_external_id for add in outbox.adds[1:] for r in add]
    assert sorted(late) == sorted(m for m in delays if m != "fast")
    assert len(outbox.adds) - 1 < 40 and outbox.most_at_once == 1
    assert not collector.in_flight
