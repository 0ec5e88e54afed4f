"""A whole site for end-to-end tests: simulated meters, an edge agent and a central API, all as processes."""

import asyncio
import json
import signal
import struct
import subprocess
import time
from collections import defaultdict
from pathlib import Path

from db.migrate import upgrade
from edge_agent.simulator.control import send_command
from tests.e2e.support import (
    CENTRAL_KEYS_SQL,
    EDGE_COLLECTED_SQL,
    as_key_set,
    central_with_site,
    meterit,
    outbox_depth,
    query_rows,
    spawn,
)
from tests.support.central_server import CentralServer, free_port


def float32(value: float) -> float:
    """The value as a BACnet REAL carries it."""
    return struct.unpack("f", struct.pack("f", value))[0]


class E2ESite:
    """Simulator + edge agent + central API on loopback; the test kills and restarts any of them."""

    def __init__(
        self,
        tmp: Path,
        central_db: str,
        base_address: str,
        meters: int = 3,
        bacnet_interface: str = "127.0.3.1",
    ):
        self.tmp, self.central_db, self.meters = tmp, central_db, meters
        self.base_address, self.bacnet_interface = base_address, bacnet_interface
        self.edge_db = f"sqlite+aiosqlite:///{tmp}/edge.db"
        self.control_port = free_port()
        self.key = central_with_site(central_db)
        upgrade("edge", self.edge_db)
        self.central = CentralServer(
            central_db, env={"RATE_LIMIT_PER_MINUTE": "100000"}, log_path=tmp / "central.log"
        )
        self.simulator: subprocess.Popen | None = None
        self.edge: subprocess.Popen | None = None
        self.edge_restarts = 0

    def edge_env(self, **extra: str) -> dict[str, str]:
        """Fast rhythm: poll every second, upload every second, heartbeat every 2 s."""
        return {
            "CLIENT_API_URL": self.central.url,
            "CLIENT_API_KEY": self.key,
            "DATABASE_URL": self.edge_db,
            "METERS_FILE": str(self.tmp / "meters.json"),
            "COLLECTION_INTERVAL_SECONDS": "1",
            "SYNC_INTERVAL_SECONDS": "1",
            "HEARTBEAT_INTERVAL_SECONDS": "2",
            "CONFIG_REFRESH_SECONDS": "3600",
            "BATCH_SIZE": "200",
            "MAX_RETRIES": "2",
            "BACNET_INTERFACE": f"{self.bacnet_interface}/8",
            "BACNET_PORT": "47809",
            "BACNET_TIMEOUT_SECONDS": "1.0",
            "METRICS_PORT": "0",
            "LOG_DIR": str(self.tmp / "edge-logs"),
            **extra,
        }

    def start(self) -> "E2ESite":
        """Start central, the simulator and the edge agent."""
        self.central.start()
        self.simulator = spawn(
            "simulate",
            "--meters",
            str(self.meters),
            "--base-address",
            self.base_address,
            "--control-port",
            str(self.control_port),
            "--record",
            str(self.tmp / "served.jsonl"),
            "--write-config",
            str(self.tmp / "meters.json"),
            env={},
            log=self.tmp / "simulator.log",
        )
        self._wait(
            lambda: (self.tmp / "meters.json").exists() and self.control("list").get("ok"), 30, "simulator"
        )
        self.start_edge()
        return self

    def start_edge(self) -> None:
        """Start (or restart) the edge agent process."""
        self.edge = spawn(
            "edge", "--no-local-api", "run", env=self.edge_env(), log=self.tmp / "edge.log", cwd=self.tmp
        )

    def kill_edge(self) -> None:
        """SIGKILL the edge agent, wherever it is in its work."""
        self.edge.send_signal(signal.SIGKILL)
        self.edge.wait(10)
        self.edge_restarts += 1

    def stop_edge(self) -> None:
        """Stop the edge agent gracefully."""
        if self.edge and self.edge.poll() is None:
            self.edge.terminate()
            self.edge.wait(20)

    def stop(self) -> None:
        """Stop everything (edge, simulator, central)."""
        self.stop_edge()
        if self.simulator and self.simulator.poll() is None:
            self.simulator.terminate()
            self.simulator.wait(10)
        self.central.stop()

    def control(self, cmd: str, meter: str | None = None) -> dict:
        """Send a command to the simulator's control port."""
        command = {"cmd": cmd} | ({"meter": meter} if meter else {})
        try:
            return asyncio.run(send_command(self.control_port, command))
        except OSError:
            return {"ok": False}

    def drain(self, timeout: float = 120) -> None:
        """Upload whatever is queued (edge stopped) until the outbox is empty."""
        deadline = time.monotonic() + timeout
        while outbox_depth(self.edge_db) and time.monotonic() < deadline:
            meterit("edge", "sync", env=self.edge_env(), cwd=self.tmp, timeout=120)
        assert outbox_depth(self.edge_db) == 0, "outbox did not drain"

    def central_keys(self) -> set[tuple]:
        """(meter, point, ts) of every reading central stored."""
        return as_key_set(query_rows(self.central_db, CENTRAL_KEYS_SQL))

    def central_count(self) -> int:
        """Rows in central's readings table (a duplicate would show here)."""
        return query_rows(self.central_db, "SELECT count(*) FROM readings")[0][0]

    def collected_rows(self) -> list[tuple]:
        """What the collector committed (recent_readings is written with the outbox, in one transaction)."""
        return query_rows(self.edge_db, EDGE_COLLECTED_SQL)

    def served_values(self) -> dict[tuple[str, str], set[float]]:
        """Values the simulator served, by (meter external id, point)."""
        config = json.loads((self.tmp / "meters.json").read_text())
        by_device = {m["bacnet_device_id"]: m["id"] for m in config["meters"]}
        served = defaultdict(set)
        for line in (self.tmp / "served.jsonl").read_text().splitlines():
            if line.strip():
                item = json.loads(line)
                served[(by_device.get(item["device_id"]), item["point"])].add(float32(item["value"]))
        return served

    @staticmethod
    def _wait(condition, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.2)
        raise TimeoutError(f"{what} not ready in {timeout}s")

    def wait_until(self, condition, timeout: float, what: str) -> None:
        """Wait for a condition, failing with a message."""
        self._wait(condition, timeout, what)
