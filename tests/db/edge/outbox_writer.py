"""Subprocess for the SIGKILL test: commits batches of readings to the outbox and prints the running total."""

import asyncio
import sys
from datetime import UTC, datetime, timedelta

from db.edge.outbox import Outbox, Reading
from db.edge.store import make_edge_engine

BATCH = 100


async def main(url: str) -> None:
    """Write batches forever; after each commit print how many readings are durable."""
    engine = make_edge_engine(url)
    outbox = Outbox(engine)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    n = 0
    while True:
        batch = [
            Reading("meter-k", f"p{i % 10}", start + timedelta(seconds=(n + i) // 10), float(n + i), "kWh", 0)
            for i in range(BATCH)
        ]
        await outbox.add(batch)
        n += BATCH
        print(n, flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
