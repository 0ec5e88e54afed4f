"""The soak's child processes (`meterit api|edge|simulate`), each in its own session, stopped by pid."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


class Child:
    """One `meterit` process, optionally inside a network namespace; its output appended to a log file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path, wrap: list[str]) -> None:
        self.name, self.args, self.env, self.log, self.wrap = name, args, env, log, wrap
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        """Start (or start again) the process."""
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [*self.wrap, sys.executable, "-m", "meterit.cli", *self.args],
                env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env},
                cwd=REPO_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the soak only; it stops its children itself
            )
        self.starts += 1

    @property
    def pid(self) -> int:
        """The process id (`ip netns exec` execs the program, so it is the program's own)."""
        return self.process.pid

    def alive(self) -> bool:
        """True while running."""
        return self.process is not None and self.process.poll() is None

    def kill(self) -> int:
        """SIGKILL the process (not its group: a worker's parent stays); returns its exit status."""
        self.process.send_signal(signal.SIGKILL)
        return self.process.wait(10)

    def children(self) -> list[int]:
        """Pids of the process's direct children (uvicorn's workers)."""
        try:
            return [int(p) for p in Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()]
        except OSError:
            return []

    def workers(self) -> list[int]:
        """Children that are uvicorn workers (multiprocessing spawn), not its resource tracker."""
        found = []
        for pid in self.children():
            try:
                if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    found.append(pid)
            except OSError:
                continue
        return found

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM the process group, SIGKILL it when it does not stop in time."""
        if not self.alive():
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
            self.process.wait(10)


def run_meterit(
    args: list[str], env: dict[str, str], wrap: list[str], timeout: float = 120
) -> subprocess.CompletedProcess:
    """Run one `meterit` command to completion (e.g. `edge sync`)."""
    return subprocess.run(
        [*wrap, sys.executable, "-m", "meterit.cli", *args],
        env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def wait_for(condition, timeout: float, what: str, every: float = 0.3) -> float:
    """Wait until condition() is true; returns the seconds it took (TimeoutError names what)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(every)
    raise TimeoutError(f"{what} not ready in {timeout:.0f} s")


def http_ok(url: str, wrap: list[str]) -> bool:
    """True when GET url answers 200 (curl, run inside the namespace of `wrap`)."""
    done = subprocess.run([*wrap, "curl", "-s", "-m", "2", "-o", "/dev/null", "-w", "%{http_code}", url],
                          capture_output=True, text=True, check=False)  # fmt: skip
    return done.stdout.strip() == "200"
