"""Orchestration of `meterit soak`: set up, warm up, inject the plan, drain, stop, judge, clean up."""

import heapq
import json
import os
import signal
import tempfile
import time
from pathlib import Path

from db.clock import utcnow
from meterit.soak.events import EventLog
from meterit.soak.faults import Injector
from meterit.soak.network import SoakNetwork, netns_unavailable
from meterit.soak.processes import run_meterit, wait_for
from meterit.soak.report import print_report
from meterit.soak.schedule import blackout_seconds, plan
from meterit.soak.site import SoakSite
from meterit.soak.truth import outbox_depth, query
from meterit.soak.verdict import judge


class Interrupted(Exception):
    """SIGTERM or SIGINT: stop and clean up."""


def _interrupt(signum, _frame):
    raise Interrupted(f"signal {signum}")


def settings_for(run_seconds: float) -> tuple[float, int]:
    """(collection interval, outbox cap): the blackout fills the cap part of the way through."""
    interval = 5.0 if run_seconds >= 600 else 2.0
    per_second = 99 * 2 / interval
    cap = max(1000, int(per_second * blackout_seconds(run_seconds) * 0.4))
    return interval, cap


class Soak:
    """One soak run; run() returns the exit status (0: nothing lost, duplicated or invented)."""

    def __init__(self, minutes: float, seed: int, workdir: Path | None = None, echo=print) -> None:
        self.seconds, self.seed, self.echo = minutes * 60, seed, echo
        self.root = workdir or Path(tempfile.mkdtemp(prefix="meterit-soak-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self.log = EventLog(self.root / "events.jsonl", echo)
        self.why_no_network = netns_unavailable()
        self.network = None if self.why_no_network else SoakNetwork(f"mts{os.getpid() % 100000}")
        self.interval, self.cap = settings_for(self.seconds)
        self.site = SoakSite(self.root, self.interval, self.cap, self.network)
        self.injector = Injector(self.site, self.log, seed, self.why_no_network)
        self.drained_at: float | None = None

    def run(self) -> int:
        """Everything, bounded in time; cleans up whatever happens."""
        previous = {s: signal.signal(s, _interrupt) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            self._setup()
            faults, last_end = self._inject()
            drain = self._drain(last_end)
            stopped_at = self._stop_edges()
            verdict = judge(self.site, self.injector.down, stopped_at)
            verdict.drain_seconds = drain
            (self.root / "verdict.json").write_text(json.dumps(verdict.to_json(), indent=2, default=str))
            print_report(self, faults, verdict, self.echo)
            return 0 if verdict.ok else 1
        except Interrupted as err:
            self.echo(f"soak interrupted ({err}); cleaning up")
            return 130
        finally:
            self._cleanup()
            for s, handler in previous.items():
                signal.signal(s, handler)

    def _setup(self) -> None:
        self.log("setup", f"work directory {self.root}; run {self.seconds:.0f} s, seed {self.seed}; "
                 f"collection every {self.interval:g} s, outbox cap {self.cap}")  # fmt: skip
        if self.why_no_network:
            self.log("skipped", f"NO NETWORK FAULTS: {self.why_no_network}; netem_degraded and blackout "
                     "will be skipped, everything runs on the host's loopback")  # fmt: skip
        else:
            self.network.create()
            self.log(
                "setup", f"namespaces {self.network.central} and {self.network.site} linked on 127.19.0.0/24"
            )
            self.injector.netem = self.network.has_netem()
            if not self.injector.netem:
                self.log("skipped", "NO NETEM: this kernel has no sch_netem; network faults use tbf instead "
                         "(queueing delay and tail-drop loss, a black hole); reordering and duplication are NOT "
                         "exercised", fault="netem_reorder_duplicate")  # fmt: skip
        self.site.start_database()
        self.log("setup", f"own PostgreSQL on {self.site.pg.host}:{self.site.pg.port} ({self.site.pg.root})")
        self.site.start_central(wait=False)  # central, meters and edges start side by side
        meters = self.site.start_simulator()
        lead = 0.3 * self.seconds + 20  # warm-up included: the change comes about a third into the run
        self.site.make_edges(meters, lead)
        for edge in self.site.edges:
            edge.child.start()
        self.site.wait_central()
        self.log("setup", f"central with 2 API workers on {self.site.central_url}")
        self.log("setup", f"{len(meters)} meters; edge-a polls {len(meters) - 1}, edge-b (Europe/Berlin) polls 1 "
                 f"with its clock {lead:.0f} s before the DST change of {self.site.dst_change:%Y-%m-%d %H:%M} UTC")  # fmt: skip
        wait_for(
            lambda: all(self._central_has(e.name) for e in self.site.edges),
            180,
            "first readings in central",
            1,
        )

    def _central_has(self, edge: str) -> bool:
        site = "soak-a" if edge == "edge-a" else "soak-berlin"
        sql = ("SELECT count(*) FROM readings r JOIN data_points p ON p.id = r.point_id "
               f"JOIN meters m ON m.id = p.meter_id JOIN sites s ON s.id = m.site_id WHERE s.name = '{site}'")  # fmt: skip
        try:
            return query(self.site.db_url, sql)[0][0] > 0
        except Exception:  # the database may be restarting; not there yet
            return False

    def _inject(self):
        faults = plan(self.seed, self.seconds)
        # (when, 0 = begin / 1 = end, order, fault): a lasting fault ends its duration after it really began
        steps = [(f.at, 0, i, f) for i, f in enumerate(faults)]
        heapq.heapify(steps)
        self.log.restart_clock()
        self.log("run", f"fault window starts: {len(faults)} faults planned",
                 plan=[(round(f.at, 1), f.kind, round(f.duration, 1)) for f in faults])  # fmt: skip
        started = time.monotonic()
        last_end, blackout_until = started, -1.0
        while steps:
            at, is_end, order, fault = heapq.heappop(steps)
            if not is_end and fault.kind == "edge_kill_write" and at < blackout_until:
                heapq.heappush(steps, (blackout_until + 5, 0, order, fault))  # a late blackout: kill after it
                continue
            time.sleep(max(0.0, started + at - time.monotonic()))
            self._watch_processes()
            if is_end:
                self.injector.end(fault)
            else:
                if fault.kind == "blackout":
                    self._edge_working("edge-a")  # the outbox must fill: not while the edge restarts
                self.injector.begin(fault)
                if fault.duration:
                    ends = time.monotonic() - started + fault.duration
                    heapq.heappush(steps, (ends, 1, order, fault))
                    blackout_until = ends if fault.kind == "blackout" else blackout_until
            last_end = time.monotonic()
        self.drained_at = None  # the rest of the window: when the backlog is gone after the last fault
        while time.monotonic() < started + self.seconds:
            if self.drained_at is None and self._drained():
                self.drained_at = time.monotonic()
            time.sleep(0.5)
        if self.network:
            self.network.clear()
        return faults, last_end

    def _drained(self) -> bool:
        """Every edge runs and its outbox holds no more than one poll's readings."""
        return all(e.child.alive() and outbox_depth(e.db) <= e.polled_points for e in self.site.edges)

    def _edge_working(self, name: str, limit: float = 60.0) -> None:
        """Wait (bounded) until the edge commits to its outbox again (its WAL changes)."""
        wal = self.site.edge(name).db.with_name(f"{name}.db-wal")

        def stamp():
            try:
                return wal.stat().st_mtime_ns
            except OSError:
                return None

        before = stamp()
        try:
            wait_for(lambda: stamp() != before, limit, f"{name} collecting", 0.2)
        except TimeoutError:
            self.log("finding", f"{name} did not commit anything for {limit:.0f} s")

    def _watch_processes(self) -> None:
        """A process that died by itself is a finding: log it and start it again."""
        for edge in self.site.edges:
            if not edge.child.alive():
                self.log(
                    "finding", f"{edge.name} exited by itself ({edge.child.process.returncode}); restarted"
                )
                edge.child.start()
        if not self.site.central.alive():
            self.log(
                "finding", f"central exited by itself ({self.site.central.process.returncode}); restarted"
            )
            self.site.central.start()

    def _drain(self, last_end: float) -> float | None:
        """Seconds from the end of the last fault until every outbox is down to one poll's readings."""
        limit = max(90.0, 0.2 * self.seconds)
        if self.drained_at is not None:
            drained = self.drained_at - last_end
            self.log("drain", f"backlog drained {drained:.1f} s after the last fault ended")
            return drained
        try:
            waited = wait_for(lambda: all(outbox_depth(e.db) <= e.polled_points for e in self.site.edges), limit,
                              "outbox drain", 0.5)  # fmt: skip
        except TimeoutError:
            depths = {e.name: outbox_depth(e.db) for e in self.site.edges}
            self.log("finding", f"outboxes not drained {limit:.0f} s after the faults: {depths}")
            return None
        drained = time.monotonic() - last_end
        self.log(
            "drain", f"backlog drained {drained:.1f} s after the last fault ended (waited {waited:.1f} s)"
        )
        return drained

    def _stop_edges(self) -> float:
        """Stop the edges gracefully, upload what they left, then stop the meters; returns when (system time)."""
        stopped_at = utcnow().timestamp()
        for edge in self.site.edges:
            edge.child.stop()
        for edge in self.site.edges:
            for _ in range(5):
                if outbox_depth(edge.db) == 0:
                    break
                run_meterit(["edge", "sync"], self.site.edge_env(edge), edge.child.wrap)
            self.log("stop", f"{edge.name} stopped; {outbox_depth(edge.db)} left in its outbox")
        self.site.simulator.stop()
        return stopped_at

    def _cleanup(self) -> None:
        destroy_pg = lambda: self.site.pg.destroy(self.root)  # noqa: E731
        for step in (self.site.stop, destroy_pg, self.network.destroy if self.network else None):
            if step is None:
                continue
            try:
                step()
            except Exception as err:  # cleanup goes on whatever one step does
                self.echo(f"cleanup: {getattr(step, '__qualname__', step)} failed: {err}")
        self.echo(f"soak files (logs, events.jsonl, verdict.json) in {self.root}")
