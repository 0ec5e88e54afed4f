"""/metrics of a running API and a running edge: every metric named in deploy/'s Grafana and alert files is served."""

import json
import re
import socket

import httpx
import yaml

from edge_agent.metrics import serve_metrics
from edge_agent.service import EdgeAgent
from edge_agent.settings import EdgeSettings
from tests.api.conftest import execute, http_client, new_site
from tests.support.central_server import REPO_ROOT

DEPLOY = REPO_ROOT / "deploy"
NAME = re.compile(r"\bmeterit_[a-z0-9_]+")
SUFFIXES = ("", "_total", "_bucket", "_sum", "_count", "_created")


def named_in_deploy() -> set[str]:
    """Every meterit_* name in the Grafana dashboard's queries and the alert rules' expressions."""
    dashboard = json.loads((DEPLOY / "grafana-dashboard.json").read_text(encoding="utf-8"))
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    rules = yaml.safe_load((DEPLOY / "prometheus-alerts.yml").read_text(encoding="utf-8"))
    exprs += [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    return {name for expr in exprs for name in NAME.findall(expr)}


def exposed(text: str) -> set[str]:
    """Every series name the exposition text offers, including those of families without samples yet."""
    names = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            family = line.split()[2]
            names.update(family + suffix for suffix in SUFFIXES)
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_every_metric_of_the_dashboard_and_alert_rules_is_served(central, central_pg_url, tmp_path):
    named = named_in_deploy()
    assert {"meterit_graphql_request_duration_seconds_bucket", "meterit_db_pool_checked_out"} <= named
    assert {"meterit_rollup_lag_seconds", "meterit_subscriptions_active", "meterit_edge_queue_depth"} <= named

    _, key = await new_site(central_pg_url)
    await execute(http_client(central.url, key=key), "{ siteConfig { siteId } }")
    async with httpx.AsyncClient(timeout=10) as client:
        api_text = (await client.get(central.base_url + "/metrics")).text
    assert 'meterit_graphql_request_duration_seconds_count{operation="siteConfig",status="200"}' in api_text

    settings = EdgeSettings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{tmp_path}/edge.db",
        meters_file=str(tmp_path / "meters.json"),
        client_api_key=None,
        log_dir=str(tmp_path / "logs"),
    )
    agent = EdgeAgent(settings, upload=False)
    await agent.start(bacnet=False, loops_on=False)
    port = free_port()
    try:
        serve_metrics("127.0.0.1", port)
        async with httpx.AsyncClient(timeout=10) as client:
            edge_text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    finally:
        await agent.stop()

    central_names = {n for n in named if not n.startswith("meterit_edge_")}
    assert central_names - exposed(api_text) == set()
    assert (named - central_names) - exposed(edge_text) == set()
