"""The soak's own event log (JSON lines): every fault as it actually happened, with its evidence."""

import json
import time
from pathlib import Path

from db.clock import utcnow


class EventLog:
    """Appends {"t": seconds since the run began, "at": UTC, "kind", "what", ...evidence} lines."""

    def __init__(self, path: Path, echo=print) -> None:
        self.path = path
        self.started = time.monotonic()
        self.echo = echo
        self.items: list[dict] = []

    def restart_clock(self) -> None:
        """t counts from now (the start of the fault window)."""
        self.started = time.monotonic()

    def __call__(self, kind: str, what: str, **evidence) -> dict:
        """Record one event and echo it."""
        item = {"t": round(time.monotonic() - self.started, 3), "at": utcnow().isoformat(), "kind": kind,
                "what": what, **evidence}  # fmt: skip
        self.items.append(item)
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(item, default=str) + "\n")
        self.echo(f"[soak {item['t']:8.1f}s] {kind}: {what}")
        return item


def read_events(path: Path) -> list[dict]:
    """The events a soak wrote."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
