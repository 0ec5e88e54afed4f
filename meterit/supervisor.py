"""Run several `meterit` processes side by side, wait for them to be ready, stop them all cleanly."""

import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)


@dataclass
class Service:
    """One child process: its meterit arguments, environment and how to tell it is ready."""

    name: str
    args: list[str]
    env: dict[str, str] = field(default_factory=dict)
    ready_url: str | None = None
    ready_port: tuple[str, int] | None = None
    ready_timeout: float = 60.0
    process: subprocess.Popen | None = None


class ServiceFailed(Exception):
    """A service exited or did not become ready."""


def port_open(host: str, port: int) -> bool:
    """True when something accepts TCP connections on host:port."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def url_ok(url: str) -> bool:
    """True when GET url answers 2xx."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback URLs we built)
            return 200 <= response.status < 300
    except OSError:
        return False


class Supervisor:
    """Starts services in order, logs each to its own file, and stops them in reverse order."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.services: list[Service] = []

    def start(self, service: Service) -> None:
        """Start one service and wait until it is ready (or raise ServiceFailed)."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{service.name}.log", "ab")  # noqa: SIM115 (closed with the process)
        env = {**os.environ, **service.env, "PYTHONUNBUFFERED": "1"}
        service.process = subprocess.Popen(
            [sys.executable, "-m", "meterit.cli", *service.args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us only; we stop children in order
        )
        self.services.append(service)
        self._wait_ready(service)

    def _wait_ready(self, service: Service) -> None:
        deadline = time.monotonic() + service.ready_timeout
        while time.monotonic() < deadline:
            if service.process.poll() is not None:
                raise ServiceFailed(
                    f"{service.name} exited with {service.process.returncode}; see {self.log_path(service)}"
                )
            if self._is_ready(service):
                return
            time.sleep(0.3)
        raise ServiceFailed(
            f"{service.name} not ready after {service.ready_timeout:.0f}s; see {self.log_path(service)}"
        )

    @staticmethod
    def _is_ready(service: Service) -> bool:
        if service.ready_url:
            return url_ok(service.ready_url)
        if service.ready_port:
            return port_open(*service.ready_port)
        return True

    def log_path(self, service: Service) -> Path:
        """Where a service's output goes."""
        return self.log_dir / f"{service.name}.log"

    def stop_all(self, timeout: float = 10.0) -> None:
        """SIGTERM every service in reverse start order, SIGKILL what does not stop in time."""
        for service in reversed(self.services):
            if service.process and service.process.poll() is None:
                os.killpg(service.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for service in reversed(self.services):
            if not service.process:
                continue
            try:
                service.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.warning("%s did not stop in %.0fs; killing it", service.name, timeout)
                os.killpg(service.process.pid, signal.SIGKILL)
                service.process.wait()
