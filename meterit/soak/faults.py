"""Injecting each fault kind and recording the evidence that it happened (meterit/soak/schedule.py says when)."""

import os
import random
import signal
import time

from db.clock import utcnow
from meterit.soak.events import EventLog
from meterit.soak.schedule import BLACKOUT, BLACKOUT_TBF, DEGRADED, DEGRADED_TBF, NETWORK_KINDS, Fault
from meterit.soak.site import SoakSite
from meterit.soak.truth import integrity, outbox_depth

DAY, HOUR, YEAR = 86_400.0, 3_600.0, 365 * 86_400.0


class Injector:
    """Starts and ends faults on a running SoakSite."""

    def __init__(self, site: SoakSite, log: EventLog, seed: int, why_no_network: str | None) -> None:
        self.site, self.log, self.rng = site, log, random.Random(seed + 1)
        self.why_no_network = why_no_network
        self.down: list[tuple[str, float, float]] = []  # (edge, system time killed, time restarted)
        self.netem = False  # set by the soak after probing the kernel
        self.shaping: str | None = None  # the network fault in force (a later one replaces an earlier one)

    def begin(self, fault: Fault) -> None:
        """Start one fault (for an instant fault: the whole of it)."""
        if fault.kind in NETWORK_KINDS and self.why_no_network:
            self.log("skipped", f"{fault.kind} SKIPPED: {self.why_no_network}", fault=fault.kind)
            return
        getattr(self, f"_{fault.kind}")(fault)

    def end(self, fault: Fault) -> None:
        """End a fault that lasts."""
        if fault.kind in NETWORK_KINDS:
            if not self.why_no_network and self.shaping == fault.kind:
                self.shaping = None
                stats = self.site.network.stats()
                self.site.network.clear()
                self.log(
                    "fault_end", f"{fault.kind} over: qdisc removed ({stats})", fault=fault.kind, stats=stats
                )
            return
        edge = self.site.edge("edge-b" if fault.kind == "clock_year_off" else "edge-a")
        edge.set_clock(edge.offset)
        self.log("fault_end", f"{fault.kind} over: {edge.name}'s clock corrected", fault=fault.kind,
                 offset=edge.offset)  # fmt: skip

    # --- the edge -----------------------------------------------------------------------------------
    def _restart_edge(self, name: str, killed_at: float) -> None:
        edge = self.site.edge(name)
        edge.child.start()
        self.down.append((name, killed_at, utcnow().timestamp()))

    def _edge_kill_write(self, fault: Fault) -> None:
        edge = self.site.edge("edge-a")
        wal = edge.db.with_name(edge.db.name + "-wal")

        def stamp():
            try:
                st = wal.stat()
                return st.st_size, st.st_mtime_ns
            except OSError:
                return None

        before, waited, deadline = stamp(), time.monotonic(), time.monotonic() + 3 * self.site.interval + 25
        while stamp() == before and time.monotonic() < deadline:
            time.sleep(0.001)
        seen_write = stamp() != before
        killed_at = utcnow().timestamp()
        status = edge.child.kill()
        check = integrity(edge.db)
        self.log("fault", f"edge-a SIGKILLed {'during a SQLite write (WAL just grew)' if seen_write else 'without a write seen'}"
                 f"; exit {status}; integrity_check {check}", fault=fault.kind, exit=status,
                 write_seen=seen_write, waited=round(time.monotonic() - waited, 3), integrity=check)  # fmt: skip
        self._restart_edge("edge-a", killed_at)

    def _edge_kill_upload(self, fault: Fault) -> None:
        edge = self.site.edge("edge-a")
        deadline, previous = time.monotonic() + 15, outbox_depth(edge.db)
        draining = False
        while time.monotonic() < deadline:
            time.sleep(0.05)
            depth = outbox_depth(edge.db)
            if depth < previous and previous > edge.polled_points:
                draining = True
                break
            previous = depth
        killed_at = utcnow().timestamp()
        status = edge.child.kill()
        depth = outbox_depth(edge.db)
        self.log("fault", f"edge-a SIGKILLed {'while uploading a backlog' if draining else 'with no backlog seen'} "
                 f"({previous} -> {depth} queued); exit {status}", fault=fault.kind, exit=status,
                 uploading=draining, depth_before=previous, depth_after=depth)  # fmt: skip
        self._restart_edge("edge-a", killed_at)

    def _clock_back_hour(self, fault: Fault) -> None:
        edge = self.site.edge("edge-a")
        edge.set_clock(edge.offset - HOUR)
        self.log("fault", "edge-a's clock stepped back an hour", fault=fault.kind, offset=edge.offset - HOUR)

    def _clock_forward_day(self, fault: Fault) -> None:
        edge = self.site.edge("edge-a")
        edge.set_clock(edge.offset + DAY)
        self.log("fault", "edge-a's clock stepped forward a day", fault=fault.kind, offset=edge.offset + DAY)

    def _clock_year_off(self, fault: Fault) -> None:
        edge = self.site.edge("edge-b")
        edge.set_clock(edge.offset + YEAR)
        self.log("fault", "edge-b's clock a year ahead", fault=fault.kind, offset=edge.offset + YEAR)

    # --- central ------------------------------------------------------------------------------------
    def _central_worker_kill(self, fault: Fault) -> None:
        central = self.site.central
        workers = central.workers()
        if not workers:
            self.log("fault", "no central worker found to kill", fault=fault.kind, killed=None)
            return
        victim = self.rng.choice(workers)
        os.kill(victim, signal.SIGKILL)
        replaced, started = None, time.monotonic()
        while time.monotonic() - started < 20:
            now = central.workers()
            if victim not in now and len(now) >= len(workers):
                replaced = [p for p in now if p not in workers]
                break
            time.sleep(0.2)
        self.log("fault", f"central worker {victim} SIGKILLed (workers {workers}); replaced by {replaced}",
                 fault=fault.kind, killed=victim, replaced=replaced,
                 replaced_after=round(time.monotonic() - started, 2))  # fmt: skip

    def _pg_restart(self, fault: Fault, mode: str) -> None:
        away = self.site.pg.restart(mode)
        self.log("fault", f"PostgreSQL restarted (-m {mode}), away {away:.1f} s", fault=fault.kind, mode=mode,
                 away=round(away, 2), running=self.site.pg.running())  # fmt: skip

    def _pg_restart_fast(self, fault: Fault) -> None:
        self._pg_restart(fault, "fast")

    def _pg_restart_immediate(self, fault: Fault) -> None:
        self._pg_restart(fault, "immediate")

    # --- the network --------------------------------------------------------------------------------
    def _netem_degraded(self, fault: Fault) -> None:
        qdisc = DEGRADED if self.netem else DEGRADED_TBF
        shown, self.shaping = self.site.network.shape(qdisc), fault.kind
        note = (
            ""
            if self.netem
            else " (no netem in this kernel: congestion loss and delay only, NO reordering or duplication)"
        )
        self.log(
            "fault",
            f"network degraded for {fault.duration:.0f} s: {qdisc}{note}",
            fault=fault.kind,
            qdisc=shown,
        )

    def _blackout(self, fault: Fault) -> None:
        shown, self.shaping = self.site.network.shape(BLACKOUT if self.netem else BLACKOUT_TBF), fault.kind
        self.log("fault", f"network blackout for {fault.duration:.0f} s (every packet dropped)", fault=fault.kind,
                 qdisc=shown)  # fmt: skip
