"""`meterit ui client|edge`: serve a Reflex dashboard (frontend and backend on one port)."""

import os
import subprocess
import sys
from pathlib import Path

from meterit.cli import CliError

ROOT = Path(__file__).resolve().parents[2]
UI_APPS = ("client", "edge")
TOOLS_BIN = ROOT / ".tools" / "bin"


def app_package(name: str) -> str:
    """The Python package of a dashboard: ui_client or ui_edge."""
    return f"ui_{name}"


def app_available(name: str) -> bool:
    """Whether the dashboard's code exists in this checkout."""
    return (ROOT / app_package(name) / "app.py").is_file()


def reflex_env(
    name: str, base: dict[str, str] | None = None, work_root: Path | None = None
) -> dict[str, str]:
    """Environment for running `reflex` on one app: its own work dirs, local bun, no telemetry or downloads."""
    env = dict(os.environ if base is None else base)
    package = app_package(name)
    root = work_root or ROOT
    env["METERIT_UI_APP"] = name
    env["REFLEX_WEB_WORKDIR"] = str(root / f".web_{package}")
    env["REFLEX_STATES_WORKDIR"] = str(root / f".states_{package}")
    env["REFLEX_USE_SYSTEM_BUN"] = "1"
    env["REFLEX_CHECK_LATEST_VERSION"] = "0"
    env["REFLEX_TELEMETRY_ENABLED"] = "false"
    env["REFLEX_TELEMETRY"] = "false"
    env["PATH"] = f"{TOOLS_BIN}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def reflex_run_command(port: int, host: str = "127.0.0.1", env_mode: str = "prod") -> list[str]:
    """The `reflex run` command line serving frontend and backend together on one port."""
    return [
        sys.executable, "-m", "reflex", "run", "--env", env_mode, "--single-port",
        "--frontend-port", str(port), "--backend-port", str(port), "--backend-host", host,
    ]  # fmt: skip


def check_ready(name: str) -> None:
    """Raise CliError with what to do when the app or its tools are missing."""
    if name not in UI_APPS:
        raise CliError(f"unknown dashboard {name!r}; choose one of {', '.join(UI_APPS)}")
    if not app_available(name):
        raise CliError(f"the {name} dashboard is not built yet: {app_package(name)}/app.py does not exist")
    if not (TOOLS_BIN / "bun").exists():
        raise CliError("bun is missing: run scripts/install_ui_tools.sh first")


def register(subparsers) -> None:
    """Add the `ui` command."""
    parser = subparsers.add_parser("ui", help="serve a dashboard: client (central) or edge (on-site)")
    parser.add_argument("app", choices=UI_APPS, help="client: central dashboard; edge: on-site dashboard")
    parser.add_argument("--port", type=int, default=3000, help="port for the dashboard (default 3000)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--api-url", help="GraphQL endpoint the dashboard talks to")
    parser.add_argument("--dev", action="store_true", help="development mode with hot reload")
    parser.set_defaults(handler=_run)


def _run(args) -> int:
    check_ready(args.app)
    command = reflex_run_command(args.port, args.host, "dev" if args.dev else "prod")
    print(f"{args.app} dashboard: http://{args.host}:{args.port}/", flush=True)
    env = reflex_env(args.app)
    if args.api_url:
        env["METERIT_EDGE_API_URL" if args.app == "edge" else "METERIT_API_URL"] = args.api_url
    return subprocess.call(command, cwd=ROOT, env=env)
