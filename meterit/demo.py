"""`meterit demo`: central, a site, simulated meters, an edge agent and both dashboards on one machine."""

import asyncio
import logging
import secrets
import shutil
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from api.alerts.mailsink import LocalMailSink as MailSink
from db.central.alert_store import find_rule, seed_default_rules
from db.central.sites import create_site
from db.central.users import create_user
from db.clock import clock, utcnow
from db.migrate import upgrade
from edge_agent.simulator.fleet import meter_external_id
from meterit.commands.common import run_in_session
from meterit.demo_history import HISTORY_DAYS, history_size, queue_history
from meterit.supervisor import Service, ServiceFailed, Supervisor, port_open

logger = logging.getLogger(__name__)

DEMO_EMAIL = "demo@meterit.local"
DEMO_PASSWORD = "meterit-demo"
DEMO_SITE = "Demo Building"
DEMO_INTERVAL_SECONDS = 5


@dataclass
class DemoPlan:
    """Where the demo keeps its data and which loopback ports it uses."""

    data_dir: Path
    central_db: str | None = None
    meters: int = 5
    base_address: str = "127.0.0.10"
    edge_address: str = "127.0.0.1"  # the edge's BACnet interface (another demo on this machine: another one)
    api_port: int = 3001
    edge_api_port: int = 3002
    ui_client_port: int = 3000
    ui_edge_port: int = 3003
    simulator_control_port: int = 47900
    mcp_port: int = 8765
    history_days: int = HISTORY_DAYS  # simulated history queued at the edge before it starts (0: none)
    energy_start: float = 100_000.0  # the simulated energy registers' value when the demo starts (kWh)
    mcp_admin_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    # the edge local API needs a password on loopback too: a fresh one per demo, shown in the banner
    edge_password: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    with_dashboards: bool = True

    @property
    def central_url(self) -> str:
        """The central database: DATABASE_URL when given, else a SQLite file in the demo folder."""
        return self.central_db or f"sqlite+aiosqlite:///{self.data_dir / 'central.db'}"

    @property
    def edge_url(self) -> str:
        """The edge's database: a SQLite file in the demo folder."""
        return f"sqlite+aiosqlite:///{self.data_dir / 'edge.db'}"

    @property
    def api_url(self) -> str:
        """Central GraphQL endpoint."""
        return f"http://127.0.0.1:{self.api_port}/graphql"

    def ports(self) -> dict[str, int]:
        """Every TCP port the demo needs, by purpose."""
        ports = {
            "central API": self.api_port,
            "edge local API": self.edge_api_port,
            "central MCP": self.mcp_port,
        }
        if self.with_dashboards:
            ports |= {"central dashboard": self.ui_client_port, "on-site dashboard": self.ui_edge_port}
        return ports


def prepare(plan: DemoPlan, fresh: bool) -> str:
    """Create the databases, the demo site and user; return the site's API key."""
    if fresh and plan.data_dir.exists():
        shutil.rmtree(plan.data_dir)
    plan.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade("central", plan.central_url)

    async def _seed(session):
        new_site = await create_site(
            session, f"{DEMO_SITE} {int(clock().timestamp())}" if plan.central_db else DEMO_SITE
        )
        # Central owns the interval (the edge's env says the same): staleness is 3 × it on both sides.
        new_site.site.collection_interval_seconds = float(DEMO_INTERVAL_SECONDS)
        await seed_default_rules(session)
        # A short heartbeat threshold so that stopping the edge raises an alert (and an email) within a minute.
        rule = await find_rule(session, "heartbeat_missing", None)
        rule.threshold, rule.pending_seconds = 0.5, 0
        try:
            await create_user(session, DEMO_EMAIL, DEMO_PASSWORD, "admin")
        except Exception:  # the user survives from an earlier run on the same PostgreSQL database
            logger.info("demo user exists already")
        return new_site.api_key

    api_key = run_in_session(plan.central_url, _seed)
    if plan.history_days and fresh:
        began = time.perf_counter()
        upgrade("edge", plan.edge_url)
        meters = [meter_external_id(i) for i in range(plan.meters)]
        count = asyncio.run(
            queue_history(plan.edge_url, meters, utcnow(), plan.energy_start, plan.history_days)
        )
        print(
            f"queued {count:,} simulated readings ({plan.history_days} days, quality uncertain) in the edge "
            f"outbox in {time.perf_counter() - began:.1f} s; its uploader sends them to central",
            flush=True,
        )
    return api_key


def history_headroom(plan: DemoPlan) -> int:
    """A queue depth the simulated history never reaches: its upload is no fault to alert on."""
    return 10_000 + history_size(plan.meters, plan.history_days)


def central_env(plan: DemoPlan, mail: MailSink) -> dict[str, str]:
    """Central settings: shortened thresholds so that faults show within a minute."""
    return {
        "DATABASE_URL": plan.central_url,
        "OFFLINE_AFTER_MINUTES": "1",
        "SMTP_HOST": mail.host,
        "SMTP_PORT": str(mail.port),
        "SMTP_FROM": "meterit-demo@localhost",
        "ALERT_RECIPIENTS": "operator@demo.local",
        "ALERT_INTERVAL_SECONDS": "5",
        # The dashboard's E-mails page lists what the mail sink stored (demoEmails; off outside the demo).
        "ALERT_DEMO_MAIL_DIR": str(mail.directory),
        "DEGRADED_QUEUE_DEPTH": str(history_headroom(plan)),
        "LOG_DIR": str(plan.data_dir / "logs"),
    }


def edge_env(plan: DemoPlan, api_key: str) -> dict[str, str]:
    """Edge settings: a fast rhythm so that the dashboards move while you watch."""
    return {
        "CLIENT_API_URL": plan.api_url,
        "CLIENT_API_KEY": api_key,
        "DATABASE_URL": plan.edge_url,
        "METERS_FILE": str(plan.data_dir / "meters.json"),
        "COLLECTION_INTERVAL_SECONDS": str(DEMO_INTERVAL_SECONDS),
        "SYNC_INTERVAL_SECONDS": "10",
        "HEARTBEAT_INTERVAL_SECONDS": "10",
        "CONFIG_REFRESH_SECONDS": "60",
        "LOCAL_API_PORT": str(plan.edge_api_port),
        "QUEUE_ALERT_DEPTH": str(history_headroom(plan)),
        "LOCAL_API_PASSWORD": plan.edge_password,
        "BACNET_INTERFACE": f"{plan.edge_address}/8",
        "BACNET_PORT": "47809",
        "LOG_DIR": str(plan.data_dir / "logs"),
    }


def services(plan: DemoPlan, api_key: str, mail: MailSink) -> list[Service]:
    """The processes of the demo, in start order."""
    found = [
        Service(
            "central",
            ["api", "--port", str(plan.api_port), "--no-migrate"],
            central_env(plan, mail),
            ready_url=f"http://127.0.0.1:{plan.api_port}/healthz",
        ),
        Service(
            "simulator",
            [
                "simulate",
                "--meters",
                str(plan.meters),
                "--base-address",
                plan.base_address,
                "--control-port",
                str(plan.simulator_control_port),
                "--write-config",
                str(plan.data_dir / "meters.json"),
                "--energy-start",
                str(plan.energy_start),
            ],
            ready_port=("127.0.0.1", plan.simulator_control_port),
        ),
        Service(
            "edge", ["edge", "run"], edge_env(plan, api_key), ready_port=("127.0.0.1", plan.edge_api_port)
        ),
        Service(
            "mcp-central",
            ["mcp", "client", "--http", "--port", str(plan.mcp_port)],
            central_env(plan, mail) | {"METERIT_MCP_ADMIN_KEY": plan.mcp_admin_key},
            ready_port=("127.0.0.1", plan.mcp_port),
        ),
    ]
    if plan.with_dashboards:
        found += [
            Service(
                "ui-client",
                ["ui", "client", "--port", str(plan.ui_client_port), "--api-url", plan.api_url],
                ready_url=f"http://127.0.0.1:{plan.ui_client_port}/",
                ready_timeout=300,
            ),
            Service(
                "ui-edge",
                [
                    "ui",
                    "edge",
                    "--port",
                    str(plan.ui_edge_port),
                    "--api-url",
                    f"http://127.0.0.1:{plan.edge_api_port}/graphql",
                ],
                ready_url=f"http://127.0.0.1:{plan.ui_edge_port}/",
                ready_timeout=300,
            ),
        ]
    return found


def cli_command() -> str:
    """How to run `meterit` from here as printed: plain when it is on PATH, else this venv's (.venv/bin/meterit)."""
    invoked = Path(sys.argv[0])
    exe = invoked.absolute() if invoked.name == "meterit" else Path(sys.executable).parent / "meterit"
    found = shutil.which("meterit")
    if found and Path(found).resolve() == exe.resolve():
        return "meterit"
    try:
        return str(exe.relative_to(Path.cwd()))
    except ValueError:
        return str(exe)


def banner(plan: DemoPlan, mail: MailSink) -> str:
    """What to open and what to try; every command runs as printed."""
    cli = cli_command()
    lines = [
        "",
        "MeterIT demo is running (Ctrl-C stops everything).",
        f"  central dashboard   http://127.0.0.1:{plan.ui_client_port}/   login {DEMO_EMAIL} / {DEMO_PASSWORD}",
        f"  on-site dashboard   http://127.0.0.1:{plan.ui_edge_port}/   password {plan.edge_password}",
        f"  central GraphQL     {plan.api_url}   (GraphiQL in a browser: log in with the bar at its top,",
        "                      same login; it puts the token into the Headers tab. Also /metrics, /healthz)",
        f"  edge local GraphQL  http://127.0.0.1:{plan.edge_api_port}/graphql   (login(password:) first)",
        f"  simulated meters    {plan.meters} BACnet/IP devices from {plan.base_address}:47808",
        f"  mail sink           smtp://{mail.host}:{mail.port} -> {mail.directory}",
        f"  data and logs       {plan.data_dir}",
        "Things to try:",
        f"  kill a meter:    {cli} simulate --control-port {plan.simulator_control_port} --ctl kill meter-002",
        "                   (the edge reports it unreachable within two polls; --ctl revive meter-002 brings it back)",
        "  stop the edge:   kill {edge_pid}  (the site goes offline after 1 minute, an alert opens, an email lands",
        "                   in the mail sink and the Alerts page shows it; the rest of the demo keeps running)",
        f"  central MCP      http://127.0.0.1:{plan.mcp_port}/mcp  (header Authorization: Bearer {plan.mcp_admin_key})",
        f"                   see docs/mcp.md; `{cli} mcp edge` gives MCP tools over the running edge agent (stdio)",
        f"                   (with LOCAL_API_PASSWORD={plan.edge_password} LOCAL_API_PORT={plan.edge_api_port})",
    ]
    if not plan.with_dashboards:
        lines = [line for line in lines if "dashboard" not in line]
    return "\n".join(lines)


def watch(supervisor: Supervisor) -> int:
    """Report services that stop (stopping the edge is part of the tour); end when central stops."""
    reported: set[str] = set()
    while True:
        time.sleep(1)
        for service in supervisor.services:
            if service.name not in reported and service.process.poll() is not None:
                reported.add(service.name)
                print(
                    f"{service.name} stopped (exit {service.process.returncode}); see {supervisor.log_path(service)}",
                    flush=True,
                )
                if service.name == "central":
                    return 1


def _stop_on_signal(signum, _frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run_demo(plan: DemoPlan, fresh: bool = True) -> int:
    """Run until Ctrl-C or until a service dies; stop everything either way."""
    # SIGTERM (systemd, `timeout`, a closed terminal) must stop the children too, like Ctrl-C does.
    signal.signal(signal.SIGTERM, _stop_on_signal)
    signal.signal(signal.SIGHUP, _stop_on_signal)
    busy = {name: port for name, port in plan.ports().items() if port_open("127.0.0.1", port)}
    if busy:
        raise ServiceFailed("ports in use: " + ", ".join(f"{name} {port}" for name, port in busy.items()))
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command at INFO
    api_key = prepare(plan, fresh)
    mail = MailSink(plan.data_dir / "mail").start()
    supervisor = Supervisor(plan.data_dir / "logs")
    try:
        for service in services(plan, api_key, mail):
            print(f"starting {service.name} ...", flush=True)
            supervisor.start(service)
        edge_pid = next(s.process.pid for s in supervisor.services if s.name == "edge")
        print(banner(plan, mail).replace("{edge_pid}", str(edge_pid)), flush=True)
        return watch(supervisor)
    except KeyboardInterrupt:
        print("\nstopping ...", flush=True)
        return 0
    finally:
        supervisor.stop_all()
        mail.stop()
