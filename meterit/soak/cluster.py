"""The soak's own PostgreSQL cluster (initdb in a temp dir), so restarting it never touches a shared server."""

import glob
import os
import pwd
import shutil
import subprocess
import time
from pathlib import Path


def pg_bin(name: str) -> str:
    """Path of a PostgreSQL server program (newest installed version first)."""
    for directory in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(f"{directory}/{name}"):
            return f"{directory}/{name}"
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} not found (install postgresql)")
    return found


class PgCluster:
    """A throwaway cluster on host:port plus a unix socket in its directory; runs as `postgres` under root."""

    def __init__(self, root: Path, host: str, port: int, wrap: list[str] | None = None) -> None:
        self.root, self.host, self.port = root, host, port
        self.data = root / "pgdata"
        self.socket_dir = root / "pgsock"
        self.log = root / "postgres.log"
        self.wrap = wrap or []  # e.g. ["ip", "netns", "exec", NS]: where the server runs
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *args: str, inside: bool = False, check: bool = True) -> subprocess.CompletedProcess:
        prefix = (self.wrap if inside else []) + self.as_user
        done = subprocess.run([*prefix, *args], capture_output=True, text=True, check=False, timeout=120)
        if check and done.returncode:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stderr.strip()[-500:]}")
        return done

    def init(self) -> None:
        """initdb with trust on loopback and the socket; fsync and synchronous_commit stay on (defaults)."""
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            for path in (self.root, self.socket_dir):
                os.chown(path, user.pw_uid, user.pw_gid)
        self._run(pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        settings = {
            "listen_addresses": f"'{self.host}'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.socket_dir}'",
            "shared_buffers": "'64MB'",
            "max_connections": "80",
            "fsync": "on",
            "synchronous_commit": "on",
            "logging_collector": "off",
        }
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        with open(self.data / "pg_hba.conf", "a", encoding="utf-8") as hba:
            hba.write("host all all 127.0.0.0/8 trust\n")  # loopback only; the cluster lives for one run

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self._run(
            pg_bin("pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-t",
            "60",
            "start",
            inside=True,
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: fast (abort transactions, clean) or immediate (no checkpoint: a crash)."""
        self._run(pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop", check=False)

    def restart(self, mode: str) -> float:
        """Stop with mode, start again; returns the seconds the server was away."""
        started = time.monotonic()
        self.stop(mode)
        self.start()
        return time.monotonic() - started

    def running(self) -> bool:
        """True while the postmaster runs."""
        status = self._run(pg_bin("pg_ctl"), "-D", str(self.data), "status", check=False)
        return status.returncode == 0

    def create_database(self, name: str) -> None:
        """CREATE DATABASE name (through the socket)."""
        self._run(pg_bin("psql"), "-h", str(self.socket_dir), "-p", str(self.port), "-U", "postgres",
                  "-d", "postgres", "-c", f'CREATE DATABASE "{name}"')  # fmt: skip

    def url(self, name: str) -> str:
        """asyncpg URL over TCP (what central uses)."""
        return f"postgresql+asyncpg://postgres@{self.host}:{self.port}/{name}"

    def socket_url(self, name: str) -> str:
        """asyncpg URL over the unix socket (what the soak itself uses from any namespace)."""
        return f"postgresql+asyncpg://postgres@/{name}?host={self.socket_dir}&port={self.port}"

    def destroy(self, keep_log_in: Path | None = None) -> None:
        """Stop (immediate) and delete the cluster's directory, keeping its log where asked."""
        if self.data.exists():
            self.stop("immediate")
        if keep_log_in and self.log.exists():
            shutil.copy(self.log, keep_log_in / "postgres.log")
        shutil.rmtree(self.root, ignore_errors=True)
