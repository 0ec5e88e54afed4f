"""The soak's site: its PostgreSQL, central (two API workers), two edges and 100 simulated meters.

Edge A (site "soak-a", UTC) polls meters 1-99; edge B (site "soak-berlin", Europe/Berlin) polls meter 100,
whose power point serves NaN, ±Inf and 3.4e38 in turn, with its clock placed just before a daylight-saving
change. Each edge reads its clock offset from its own file (METERIT_CLOCK_OFFSET_FILE): the soak steps it.
"""

import asyncio
import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from db.central.alert_store import seed_default_rules
from db.central.sites import create_site
from db.clock import OFFSET_FILE_ENV, clock, utcnow
from db.engine import make_engine, make_sessionmaker, session_scope
from db.migrate import upgrade
from meterit.soak.cluster import PgCluster
from meterit.soak.network import CENTRAL_IP, SoakNetwork
from meterit.soak.processes import REPO_ROOT, Child, http_ok, wait_for

METERS = 100
SOAK_THRESHOLDS = {"heartbeat_missing": 0.25, "central_unreachable": 0.1, "database_unreachable": 0.03,
                   "meter_unreachable": 1.0, "edge_queue": 500}  # fmt: skip
BERLIN = "Europe/Berlin"


def last_dst_change(zone: str = BERLIN, before: datetime | None = None) -> datetime:
    """The latest UTC instant before `before` at which the zone's UTC offset changed."""
    tz = ZoneInfo(zone)
    high = before or utcnow()
    # Walk back a day at a time to the day of the latest change, then halve within it: a year's window holds two
    # or three changes, so halving over it alone could land on any of them.
    low = high - timedelta(days=1)
    for _ in range(400):  # there is a change in any 400 days of Europe/Berlin
        if low.astimezone(tz).utcoffset() != high.astimezone(tz).utcoffset():
            break
        high, low = low, low - timedelta(days=1)
    while high - low > timedelta(seconds=1):
        mid = low + (high - low) / 2
        if mid.astimezone(tz).utcoffset() == high.astimezone(tz).utcoffset():
            high = mid
        else:
            low = mid
    return high.replace(microsecond=0)


@dataclass
class Edge:
    """One edge agent and its files."""

    name: str
    bacnet_ip: str
    meters: list[dict]
    root: Path
    key: str = ""
    offset: float = 0.0  # the clock offset it runs with when no clock fault is on
    child: Child | None = None
    polled_points: int = field(default=0)

    @property
    def db(self) -> Path:
        return self.root / f"{self.name}.db"

    @property
    def clock_file(self) -> Path:
        return self.root / f"{self.name}.clock"

    @property
    def log(self) -> Path:
        return self.root / f"{self.name}.log"

    def set_clock(self, offset: float) -> None:
        """Step the running edge's clock to `offset` s from the soak's own clock (written whole, then renamed).

        The file holds an offset from system time, so the soak's own offset (METERIT_CLOCK_AT) is added: an edge
        must agree with the central and meters the soak starts, whatever day the soak itself is placed on.
        """
        part = self.clock_file.with_suffix(".tmp")
        part.write_text(repr(offset + clock().offset.total_seconds()))
        os.replace(part, self.clock_file)


class SoakSite:
    """Starts and stops every process of the soak; knows where each one's files are."""

    def __init__(self, root: Path, interval: float, cap: int, network: SoakNetwork | None) -> None:
        self.root, self.interval, self.cap, self.network = root, interval, cap, network
        self.central_ip = CENTRAL_IP if network else "127.0.0.1"
        self.meter_base = "127.20.0.10" if network else "127.21.0.10"
        pg_port = 55432 if network else _free_port()
        # its own temp dir: the postgres user must reach it (a test's tmp_path lies under a 0700 directory)
        self.pg = PgCluster(Path(tempfile.mkdtemp(prefix="meterit-soak-pg-")), self.central_ip, pg_port,
                            self._wrap("central"))  # fmt: skip
        self.api_port = 3001 if network else _free_port()
        self.central: Child | None = None
        self.simulator: Child | None = None
        self.edges: list[Edge] = []
        self.dst_change = last_dst_change()

    def _wrap(self, role: str) -> list[str]:
        if not self.network:
            return []
        return self.network.wrap(self.network.central if role == "central" else self.network.site)

    @property
    def central_url(self) -> str:
        return f"http://{self.central_ip}:{self.api_port}"

    @property
    def db_url(self) -> str:
        """What the soak itself reads central with (the unix socket: reachable from any namespace)."""
        return self.pg.socket_url("meterit")

    def _env(self) -> dict[str, str]:
        return {"PYTHONPATH": str(REPO_ROOT), "TZ": "UTC"}

    def start_database(self) -> None:
        """initdb, start, migrate, and create the two sites."""
        os.chmod(self.pg.root, 0o755)
        self.pg.init()
        self.pg.start()
        self.pg.create_database("meterit")
        upgrade("central", self.db_url)
        self.keys = asyncio.run(self._sites())

    async def _sites(self) -> dict[str, str]:
        engine = make_engine(self.db_url)
        keys = {}
        async with session_scope(make_sessionmaker(engine)) as session:
            keys["edge-a"] = (await create_site(session, "soak-a", "UTC")).api_key
            keys["edge-b"] = (await create_site(session, "soak-berlin", BERLIN)).api_key
            for rule in await seed_default_rules(session):
                # thresholds a soak's faults reach: seconds and hundreds of readings, not the production ones
                if rule.kind in SOAK_THRESHOLDS:
                    rule.threshold, rule.pending_seconds = SOAK_THRESHOLDS[rule.kind], 0
        await engine.dispose()
        return keys

    def start_central(self, wait: bool = True) -> None:
        """`meterit api --workers 2` (and wait for /healthz)."""
        env = {**self._env(), "DATABASE_URL": self.pg.url("meterit"), "ENVIRONMENT": "development",
               "RATE_LIMIT_PER_MINUTE": "100000", "LOG_LEVEL": "WARNING",
               "ALERT_INTERVAL_SECONDS": "2"}  # fmt: skip
        args = [
            "api",
            "--host",
            self.central_ip,
            "--port",
            str(self.api_port),
            "--workers",
            "2",
            "--no-migrate",
        ]
        self.central = Child("central", args, env, self.root / "central.log", self._wrap("central"))
        self.central.start()
        if wait:
            self.wait_central()

    def wait_central(self) -> None:
        """Wait until central answers /healthz."""
        wait_for(lambda: http_ok(self.central_url + "/healthz", self._wrap("central")), 120, "central", 0.5)

    def start_simulator(self) -> list[dict]:
        """100 meters (meter 100 serves bad values), recording every served value; returns their config."""
        config = self.root / "meters.json"
        args = ["simulate", "--meters", str(METERS), "--base-address", self.meter_base, "--control-port", "0",
                "--record", str(self.root / "served.jsonl"), "--write-config", str(config),
                "--bad-values", str(METERS)]  # fmt: skip
        self.simulator = Child(
            "simulator", args, self._env(), self.root / "simulator.log", self._wrap("site")
        )
        self.simulator.start()
        wait_for(config.exists, 120, "simulated meters")
        return json.loads(config.read_text())["meters"]

    def make_edges(self, meters: list[dict], placed_before_dst: float) -> None:
        """Edge A for meters 1-99, edge B (Berlin) for meter 100 with its clock placed before a DST change."""
        berlin_offset = (self.dst_change - timedelta(seconds=placed_before_dst) - utcnow()).total_seconds()
        for name, ip, chunk, offset in (("edge-a", "127.20.1.1", meters[:-1], 0.0),
                                        ("edge-b", "127.20.1.2", meters[-1:], berlin_offset)):  # fmt: skip
            edge = Edge(name, ip, chunk, self.root, self.keys[name], offset)
            edge.polled_points = sum(len(m["data_points"]) for m in chunk)
            (self.root / f"{name}-meters.json").write_text(json.dumps({"meters": chunk}))
            edge.set_clock(offset)
            upgrade("edge", f"sqlite+aiosqlite:///{edge.db}")
            edge.child = Child(name, ["edge", "--no-local-api", "run"], self.edge_env(edge), edge.log,
                               self._wrap("site"))  # fmt: skip
            self.edges.append(edge)

    def edge_env(self, edge: Edge) -> dict[str, str]:
        """A fast rhythm, a small outbox cap and alert thresholds a soak can reach."""
        return {
            **self._env(),
            "CLIENT_API_URL": self.central_url + "/graphql",
            "CLIENT_API_KEY": edge.key,
            "DATABASE_URL": f"sqlite+aiosqlite:///{edge.db}",
            "METERS_FILE": str(self.root / f"{edge.name}-meters.json"),
            "COLLECTION_INTERVAL_SECONDS": str(self.interval),
            "SYNC_INTERVAL_SECONDS": "1",
            "HEARTBEAT_INTERVAL_SECONDS": "2",
            "CONFIG_REFRESH_SECONDS": "3600",
            "BATCH_SIZE": "500",
            "MAX_RETRIES": "2",
            "HTTP_TIMEOUT_SECONDS": "3",
            "BACKOFF_MAX_SECONDS": "4",
            "BACNET_INTERFACE": f"{edge.bacnet_ip}/8",
            "BACNET_PORT": "47809",
            "BACNET_TIMEOUT_SECONDS": "1.5",
            "METRICS_PORT": "0",
            "LOG_DIR": str(self.root / f"{edge.name}-logs"),
            "OUTBOX_MAX_READINGS": str(self.cap),
            "OUTBOX_FULL_POLICY": "stop_collecting",
            "QUEUE_ALERT_DEPTH": str(int(self.cap * 0.8)),
            "CENTRAL_UNREACHABLE_ALERT_MINUTES": "0.1",
            "METER_UNREACHABLE_ALERT_MINUTES": "1",
            "RECENT_RETENTION_HOURS": "100000",  # the day-ahead clock step must not prune the soak's record
            "HOUSEKEEPING_INTERVAL_SECONDS": "100000",
            OFFSET_FILE_ENV: str(edge.clock_file),
        }

    def edge(self, name: str) -> Edge:
        """The edge called name."""
        return next(e for e in self.edges if e.name == name)

    def stop(self) -> None:
        """Stop every process (edges, simulator, central); safe to call twice."""
        for edge in self.edges:
            if edge.child:
                edge.child.stop()
        for child in (self.simulator, self.central):
            if child:
                child.stop()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
