"""Run a Reflex dashboard for tests: `reflex run --env prod --single-port` in a subprocess on a free port."""

import fcntl
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from meterit.commands.ui_cmd import ROOT, check_ready, reflex_env, reflex_run_command

logger = logging.getLogger(__name__)
ARTIFACTS = ROOT / "test-artifacts"


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ReflexApp:
    """One dashboard served on 127.0.0.1; `url` ends with '/'. Logs go to test-artifacts/reflex-<app>.log."""

    def __init__(self, app: str, env: dict[str, str] | None = None, port: int | None = None):
        self.app = app
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.extra_env = env or {}
        self.log_path = ARTIFACTS / f"reflex-{app}.log"
        self._proc: subprocess.Popen | None = None
        self._states_dir: str | None = None
        self._build_lock = None

    def _lock_build_dir(self) -> None:
        """Hold the app's build dir (.web_ui_<app>, shared by every test process of this checkout) until stop."""
        self._build_lock = open(ARTIFACTS / f"reflex-{self.app}.lock", "w")  # noqa: SIM115  (held until stop)
        fcntl.flock(self._build_lock, fcntl.LOCK_EX)  # another xdist worker's run of this app: wait for it

    def start(self, timeout: float = 240.0) -> "ReflexApp":
        """Build and start the app; return once both frontend and backend answer."""
        check_ready(self.app)
        ARTIFACTS.mkdir(exist_ok=True)
        self._lock_build_dir()
        env = reflex_env(self.app)
        # Fresh per-run state storage: pickled states of an older version of the app must not be loaded.
        self._states_dir = tempfile.mkdtemp(prefix=f"meterit-states-{self.app}-")
        env["REFLEX_STATES_WORKDIR"] = self._states_dir
        env.update(self.extra_env)
        log = open(self.log_path, "w")  # noqa: SIM115  (kept open for the child's lifetime)
        self._proc = subprocess.Popen(
            reflex_run_command(self.port), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"reflex exited with {self._proc.returncode}: {self._tail()}")
            if self._ready():
                logger.info("%s dashboard ready at %s", self.app, self.url)
                return self
            time.sleep(0.5)
        self.stop()
        raise TimeoutError(f"{self.app} dashboard not ready after {timeout:.0f} s: {self._tail()}")

    def _ready(self) -> bool:
        try:
            ping = httpx.get(f"{self.url}ping", timeout=2)
            page = httpx.get(self.url, timeout=2)
        except httpx.HTTPError:
            return False
        return ping.status_code == 200 and page.status_code == 200

    def _tail(self) -> str:
        try:
            return Path(self.log_path).read_text()[-3000:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop the app and everything it started (its own process group), and drop its state storage."""
        try:
            self._stop_process()
        finally:
            if self._states_dir:
                shutil.rmtree(self._states_dir, ignore_errors=True)
                self._states_dir = None
            if self._build_lock:
                self._build_lock.close()  # releases the flock
                self._build_lock = None

    def _stop_process(self) -> None:
        if self._proc is None or self._proc.poll() is not None:
            return
        try:
            os.killpg(self._proc.pid, signal.SIGTERM)
            self._proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait(timeout=5)
        except ProcessLookupError:
            pass

    def __enter__(self) -> "ReflexApp":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
