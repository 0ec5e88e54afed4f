"""Where a benchmark's CPU went, from Linux /proc: this process, a server's process tree, the whole machine."""

import os
import resource
from dataclasses import dataclass

TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # the command name may hold spaces and parentheses


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU seconds of root and its live descendants (and the children they reaped)."""
    parents, cpu = {}, {}
    for name in os.listdir("/proc"):
        if name.isdigit() and (fields := _stat_fields(int(name))):
            parents[int(name)] = int(fields[1])
            cpu[int(name)] = sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    total, todo = 0, [root] if root in cpu else []
    while todo:
        pid = todo.pop()
        total += cpu[pid]
        todo.extend(children.get(pid, ()))
    return total / TICKS


def backends_cpu_seconds(postmaster: int, database: str) -> float:
    """User + system CPU seconds of the live PostgreSQL backends connected to one database.

    The whole postmaster tree would count every other database's backends on a shared server too.
    """
    total = 0
    for name in os.listdir("/proc"):
        if not name.isdigit() or not (fields := _stat_fields(int(name))) or int(fields[1]) != postmaster:
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                title = f.read().split(b"\0")[0].split()  # "postgres: 15/main: USER DATABASE HOST ..."
        except OSError:
            continue
        if len(title) > 3 and title[3].decode(errors="replace") == database:
            total += sum(int(v) for v in fields[11:13])
    return total / TICKS


def reaped_children_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of the children a process has reaped: a postmaster's exited backends."""
    fields = _stat_fields(pid)
    return sum(int(v) for v in fields[13:15]) / TICKS if fields else 0.0  # cutime cstime


def machine_busy_seconds() -> float:
    """CPU seconds every core spent not idle since boot."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / TICKS


def own_cpu_seconds() -> float:
    """User + system CPU seconds of this process."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def parent_pid(pid: int) -> int | None:
    """The parent of a process (a PostgreSQL backend's parent is the postmaster)."""
    fields = _stat_fields(pid)
    return int(fields[1]) if fields else None


@dataclass
class CpuSplit:
    """CPU seconds used during a measurement: load generator, server, PostgreSQL, and the whole machine."""

    client: float
    server: float
    postgres: float
    machine: float

    @property
    def rest(self) -> float:
        """Machine busy time used by none of them (kernel work on their behalf, other processes)."""
        return max(self.machine - self.client - self.server - self.postgres, 0.0)

    def describe(self, units: int, unit_name: str) -> str:
        """The CPU microseconds each part spent per unit processed."""
        per = 1e6 / units
        return (
            f"CPU per {unit_name}: load generator {self.client * per:.1f} µs, API {self.server * per:.1f} µs, "
            f"PostgreSQL {self.postgres * per:.1f} µs, rest of the machine {self.rest * per:.1f} µs"
        )


class CpuMeter:
    """Snapshot at start(), difference at stop(): where the CPU of a measured phase went."""

    def __init__(self, server_pid: int | None, postgres_pid: int | None, database: str | None = None) -> None:
        """database: count the live backends connected to it and the backends that exit meanwhile (pool
        connections closed under load; the postmaster's reaped children, so another database's too), not the
        server's other processes. Counting live backends alone lost a backend's whole CPU when it exited."""
        self.server_pid, self.postgres_pid, self.database = server_pid, postgres_pid, database
        self._start = (0.0, 0.0, 0.0, 0.0)

    def _now(self) -> tuple[float, float, float, float]:
        server = tree_cpu_seconds(self.server_pid) if self.server_pid else 0.0
        if not self.postgres_pid:
            postgres = 0.0
        elif self.database:
            postgres = backends_cpu_seconds(self.postgres_pid, self.database)
            postgres += reaped_children_cpu_seconds(self.postgres_pid)
        else:
            postgres = tree_cpu_seconds(self.postgres_pid)
        return own_cpu_seconds(), server, postgres, machine_busy_seconds()

    def start(self) -> None:
        """Begin the phase."""
        self._start = self._now()

    def stop(self) -> CpuSplit:
        """End the phase; the CPU each part used during it."""
        now = self._now()
        return CpuSplit(*(b - a for a, b in zip(self._start, now, strict=True)))
