"""The fault plan: which faults, when, for how long; the same seed and length always give the same plan."""

import random
from dataclasses import dataclass

# Every kind the soak injects; the short run in the test suite checks each one happened.
KINDS = (
    "edge_kill_write",  # SIGKILL the edge while its SQLite WAL is being written
    "edge_kill_upload",  # SIGKILL the edge while it uploads a backlog
    "central_worker_kill",  # SIGKILL one of central's API worker processes
    "pg_restart_fast",  # pg_ctl restart -m fast
    "pg_restart_immediate",  # pg_ctl restart -m immediate (crash recovery at start)
    "netem_degraded",  # loss, delay, reordering, duplication between edge and central
    "blackout",  # 100% loss between edge and central; the outbox fills to its cap meanwhile
    "clock_back_hour",  # the edge's clock steps back an hour (and is corrected later)
    "clock_forward_day",  # the edge's clock steps forward a day (and is corrected later)
    "clock_year_off",  # the Berlin edge's clock is a year ahead for a while (its readings are refused)
)
NETWORK_KINDS = ("netem_degraded", "blackout")
DEGRADED = "netem loss 10% delay 80ms 40ms reorder 25% 50% duplicate 5%"
BLACKOUT = "netem loss 100%"
# Without sch_netem in the kernel: a token bucket that queues (delay) and tail-drops (loss) what exceeds
# 256 kbit/s, and one that drops every packet (a silent black hole). No reordering or duplication then.
DEGRADED_TBF = "tbf rate 256kbit burst 3000 latency 300ms"
BLACKOUT_TBF = "tbf rate 8bit burst 1 limit 1"


@dataclass(frozen=True)
class Fault:
    """One fault: starts `at` seconds into the run, lasts `duration` seconds (0 = an instant)."""

    at: float
    kind: str
    duration: float = 0.0

    @property
    def ends(self) -> float:
        """When the fault is over (for an instant: when it happened)."""
        return self.at + self.duration


def blackout_seconds(run_seconds: float) -> float:
    """Five minutes in a run of 30 minutes or more, scaled down (never under 20 s) in shorter runs."""
    return max(20.0, min(300.0, run_seconds / 6))


def plan(seed: int, run_seconds: float) -> list[Fault]:
    """The faults of a run of run_seconds, at random but reproducible times, sorted by start."""
    rng = random.Random(seed)
    d = run_seconds
    long = d >= 600
    blackout = blackout_seconds(d)
    black_at = rng.uniform(0.30, 0.40) * d
    faults = [
        Fault(black_at, "blackout", blackout),
        # a backlog is uploading 1-3 s after the blackout: kill the edge in the middle of it
        Fault(black_at + blackout + rng.uniform(1.0, 3.0), "edge_kill_upload"),
        # the degraded network ends before the blackout begins (one qdisc at a time)
        Fault(rng.uniform(0.02, 0.08) * d, "netem_degraded", max(8.0, min(0.1 * d, 0.2 * d - 2))),
        Fault(rng.uniform(0.05, 0.25) * d, "clock_back_hour", max(6.0, 0.05 * d)),
        Fault(rng.uniform(0.6, 0.7) * d, "clock_forward_day", max(5.0, 0.02 * d)),
        Fault(rng.uniform(0.55, 0.75) * d, "clock_year_off", max(5.0, 0.02 * d)),
        Fault(rng.uniform(0.1, 0.3) * d, "pg_restart_fast"),
        Fault(rng.uniform(0.7, 0.8) * d, "pg_restart_immediate"),
    ]
    # not inside the blackout (the outbox must fill to its cap there): before it, or after it
    black_end = black_at + blackout
    before = (0.05 * d, max(0.05 * d, black_at - 10))
    after = (black_end + 5, max(black_end + 6, 0.9 * d))
    for _ in range(4 if long else 2):
        span = rng.uniform(0, (before[1] - before[0]) + (after[1] - after[0]))
        at = before[0] + span if span <= before[1] - before[0] else after[0] + span - (before[1] - before[0])
        faults.append(Fault(at, "edge_kill_write"))
    for _ in range(3 if long else 1):
        faults.append(Fault(rng.uniform(0.1, 0.85) * d, "central_worker_kill"))
    if long:  # a second PostgreSQL restart of each kind in long runs
        faults += [Fault(rng.uniform(0.45, 0.6) * d, "pg_restart_fast"),
                   Fault(rng.uniform(0.2, 0.3) * d, "pg_restart_immediate")]  # fmt: skip
    return sorted(faults, key=lambda f: f.at)
