"""Run the real central server (`python -m meterit.cli api`) as a subprocess on a free loopback port.

    with CentralServer(database_url) as server:        # waits for /healthz
        client(server.url)                             # http://127.0.0.1:PORT/graphql
        server.kill(); server.restart()                # SIGKILL, then the same port again

In pytest: `from tests.support.central_server import central_server_factory` in a conftest (or test
module) gives a fixture `central_server_factory(database_url, **env)` whose servers are stopped after the test.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class CentralServer:
    """A `meterit api` subprocess; env entries override settings (e.g. RATE_LIMIT_PER_MINUTE="5"), args are
    extra command-line options (e.g. ["--ssl-certfile", cert, "--ssl-keyfile", key] with verify=CA path)."""

    def __init__(
        self,
        database_url: str,
        *,
        port: int | None = None,
        workers: int = 1,
        env: dict[str, str] | None = None,
        log_path: str | Path | None = None,
        startup_timeout: float = 90.0,
        args: list[str] | None = None,
        verify: str | bool = True,
    ) -> None:
        self.database_url = database_url
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.workers = workers
        self.extra_env = {k: str(v) for k, v in (env or {}).items()}
        self.log_path = Path(log_path) if log_path else None
        self.startup_timeout = startup_timeout
        self.args = list(args or [])
        self.verify = verify  # CA bundle path for a TLS server (--ssl-certfile in args)
        self.process: subprocess.Popen | None = None
        self._log = None

    @property
    def scheme(self) -> str:
        """https when started with --ssl-certfile, else http."""
        return "https" if "--ssl-certfile" in self.args else "http"

    @property
    def base_url(self) -> str:
        """http(s)://127.0.0.1:PORT"""
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The GraphQL endpoint."""
        return self.base_url + "/graphql"

    @property
    def ws_url(self) -> str:
        """The GraphQL websocket endpoint."""
        return f"{'wss' if self.scheme == 'https' else 'ws'}://{self.host}:{self.port}/graphql"

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES_", "REDIS_URL"))}
        env.update({"DATABASE_URL": self.database_url, "ENVIRONMENT": "development", "PYTHONUNBUFFERED": "1"})
        env.update(self.extra_env)
        return env

    def start(self) -> "CentralServer":
        """Start the server and wait until /healthz answers (RuntimeError with its log otherwise)."""
        if self.process and self.process.poll() is None:
            return self
        command = [sys.executable, "-m", "meterit.cli", "api", "--host", self.host, "--port", str(self.port)]
        if self.workers > 1:
            command += ["--workers", str(self.workers)]
        command += self.args
        if self.log_path:
            self._log = open(self.log_path, "ab")  # noqa: SIM115  (kept open while the server runs)
        self.process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=self._environment(),
            stdout=self._log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT if self._log else subprocess.DEVNULL,
        )
        self._wait_healthy()
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"central server exited with {self.process.returncode}{self._log_tail()}")
            try:
                if httpx.get(self.base_url + "/healthz", timeout=1.0, verify=self.verify).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"central server not healthy after {self.startup_timeout} s{self._log_tail()}")

    def _log_tail(self) -> str:
        if not self.log_path or not self.log_path.exists():
            return " (pass log_path to see its output)"
        return ":\n" + self.log_path.read_text(errors="replace")[-3000:]

    def stop(self, timeout: float = 10.0) -> None:
        """Graceful stop (SIGTERM), SIGKILL after timeout."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_log()

    def kill(self) -> None:
        """Crash the server (SIGKILL), as a fault test wants."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._close_log()

    def restart(self) -> "CentralServer":
        """Stop if running, then start again on the same port."""
        self.stop()
        return self.start()

    def _close_log(self) -> None:
        if self._log:
            self._log.close()
            self._log = None

    def __enter__(self) -> "CentralServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


@pytest.fixture
def central_server_factory(tmp_path):
    """Factory fixture: `central_server_factory(database_url, **kwargs)` starts a server, stopped after the test."""
    servers: list[CentralServer] = []

    def _start(database_url: str, **kwargs) -> CentralServer:
        kwargs.setdefault("log_path", tmp_path / f"central-{len(servers)}.log")
        server = CentralServer(database_url, **kwargs)
        servers.append(server)
        return server.start()

    yield _start
    for server in servers:
        server.stop()
