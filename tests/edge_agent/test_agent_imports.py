"""What a running `meterit edge` (with its local API) keeps out of memory: modules it loads only when it needs them."""

import json
import subprocess
import sys

from tests.support.central_server import REPO_ROOT

# What `meterit edge run` imports: the CLI with only the edge command, the agent, its local API.
AGENT_IMPORTS = """
import json, sys
import meterit.cli as cli
cli.build_parser("edge")
import edge_agent.logs, edge_agent.memory, edge_agent.metrics, edge_agent.settings, edge_agent.service
import edge_agent.local_api
print(json.dumps(sorted(sys.modules)))
"""

# SQLAlchemy's asyncio layer with the ORM and greenlet (~7 MB): an SQLite edge runs on db/edge/threaded.py.
KEPT_OUT = ("sqlalchemy.ext.asyncio", "sqlalchemy.orm", "greenlet", "aiosqlite", "asyncpg")


def test_the_agent_does_not_import_what_it_does_not_use():
    out = subprocess.run(
        [sys.executable, "-c", AGENT_IMPORTS], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout
    loaded = json.loads(out)
    assert "edge_agent.service" in loaded
    assert [m for m in loaded if m.startswith(KEPT_OUT)] == []
