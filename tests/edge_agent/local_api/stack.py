"""A whole on-site stack in subprocesses for the ui_edge browser tests: `meterit simulate` and `meterit edge`.

Meters at 127.0.0.231-233:47808, the agent's BACnet client at 127.0.0.230:47809, its local API on a free
loopback TCP port. Control of the simulated meters goes through the simulator's JSON-lines control port.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.edge_agent.local_api.site import free_port

REPO = Path(__file__).resolve().parents[3]
METER_BASE = "127.0.0.231"
CLIENT = "127.0.0.230"


STACK_PASSWORD = "on-site stack password"  # LOCAL_API_PASSWORD of the agent (the dashboard logs in with it)


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "meterit.cli", *args], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip


def _stop(proc: subprocess.Popen | None, sig: int = signal.SIGTERM) -> None:
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, sig)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


class EdgeStack:
    """Simulator + agent (+ local API); `meters_configured` of the simulated meters are in meters.json."""

    def __init__(
        self, work: Path, central_url: str, api_key: str, meters: int = 3, meters_configured: int = 2
    ):
        self.work = work
        self.central_url, self.api_key = central_url, api_key
        self.meters, self.meters_configured = meters, meters_configured
        self.control_port = free_port()
        self.api_port = free_port()
        self.sim: subprocess.Popen | None = None
        self.agent: subprocess.Popen | None = None

    @property
    def api_url(self) -> str:
        """The agent's local GraphQL endpoint."""
        return f"http://127.0.0.1:{self.api_port}/graphql"

    def agent_env(self) -> dict[str, str]:
        """The agent's environment: fast cycles, SQLite in the work dir, loopback everywhere."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES_", "LOCAL_POSTGRES_"))}
        env.update({
            "DATABASE_URL": f"sqlite+aiosqlite:///{self.work}/edge.db", "METERS_FILE": str(self.work / "meters.json"),
            "BACNET_INTERFACE": f"{CLIENT}/8", "BACNET_PORT": "47809", "BACNET_TIMEOUT_SECONDS": "1.5",
            "COLLECTION_INTERVAL_SECONDS": "1", "SYNC_INTERVAL_SECONDS": "3600", "HEARTBEAT_INTERVAL_SECONDS": "1",
            "CLIENT_API_URL": self.central_url, "CLIENT_API_KEY": self.api_key, "HTTP_TIMEOUT_SECONDS": "3",
            "MAX_RETRIES": "0", "BACKOFF_MAX_SECONDS": "1", "LOCAL_API_HOST": "127.0.0.1",
            "LOCAL_API_PORT": str(self.api_port), "LOG_DIR": str(self.work / "logs"), "METRICS_PORT": "0",
            "ENVIRONMENT": "development", "PYTHONUNBUFFERED": "1", "LOCAL_API_PASSWORD": STACK_PASSWORD, "CENTRAL_UNREACHABLE_ALERT_MINUTES": "0.15",
        })  # fmt: skip
        return env

    def start(self) -> "EdgeStack":
        """Start the simulator, write meters.json, start the agent; return once the local API answers."""
        full = self.work / "fleet.json"
        self.sim = _spawn(
            ["simulate", "--meters", str(self.meters), "--base-address", METER_BASE, "--points", "2",
             "--control-port", str(self.control_port), "--write-config", str(full)],
            dict(os.environ), self.work / "simulator.log",
        )  # fmt: skip
        self._wait(lambda: full.exists(), "simulator")
        document = json.loads(full.read_text())
        document["meters"] = document["meters"][: self.meters_configured]
        (self.work / "meters.json").write_text(json.dumps(document))
        self.start_agent()
        return self

    def start_agent(self) -> None:
        """Start (or restart) `meterit edge` and wait for its local API."""
        self.agent = _spawn(["edge"], self.agent_env(), self.work / "agent.log")
        self._wait(self._api_ready, "local API")

    def _api_ready(self) -> bool:
        if self.agent and self.agent.poll() is not None:
            raise RuntimeError(f"agent exited: {self.log_tail('agent.log')}")
        try:
            return httpx.get(self.api_url.replace("/graphql", "/healthz"), timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def _wait(self, ready, what: str, timeout: float = 40.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():
                return
            time.sleep(0.2)
        raise TimeoutError(f"{what} not ready after {timeout} s: {self.log_tail('agent.log')}")

    def log_tail(self, name: str) -> str:
        """The end of one of the stack's logs."""
        path = self.work / name
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def meter(self, command: str, meter: str) -> dict:
        """Send kill / revive / reset / fault to one simulated meter."""
        with socket.create_connection(("127.0.0.1", self.control_port), timeout=5) as sock:
            sock.sendall((json.dumps({"cmd": command, "meter": meter}) + "\n").encode())
            answer = sock.makefile().readline()
        return json.loads(answer)

    def gql(self, query: str) -> dict:
        """One operation on the local API with a token from its password (test setup and checks)."""
        login = f'mutation {{ login(password: "{STACK_PASSWORD}") {{ ... on LoginSuccess {{ token }} }} }}'
        token = httpx.post(self.api_url, json={"query": login}, timeout=30).json()["data"]["login"]["token"]
        headers = {"Authorization": f"Bearer {token}"}
        body = httpx.post(self.api_url, json={"query": query}, headers=headers, timeout=30).json()
        assert not body.get("errors"), body
        return body["data"]

    def stop_agent(self) -> None:
        """Stop the agent (SIGTERM)."""
        _stop(self.agent)

    def stop(self) -> None:
        """Stop the agent and the simulator."""
        _stop(self.agent)
        _stop(self.sim)

    def __enter__(self) -> "EdgeStack":
        try:
            return self.start()
        except BaseException:
            self.stop()  # a failed start (e.g. the agent's port taken) leaves no simulator behind
            raise

    def __exit__(self, *exc) -> None:
        self.stop()
