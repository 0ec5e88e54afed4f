"""What a running `meterit edge` (with its local API) keeps out of memory: modules it loads only when it needs them."""

import json
import subprocess
import sys

from edge_agent.memory import UNUSED_OPTIONAL_MODULES
from tests.support.central_server import REPO_ROOT

# What `meterit edge run` imports: the CLI with only the edge command, the agent, its local API (and, first,
# what its `_run` does before any library import when `keep_out` is set).
AGENT_IMPORTS = """
import json, sys
if {keep_out}:
    from edge_agent.memory import keep_out_unused_modules
    keep_out_unused_modules()
import meterit.cli as cli
cli.build_parser("edge")
import edge_agent.logs, edge_agent.memory, edge_agent.metrics, edge_agent.settings, edge_agent.service
import edge_agent.local_api
from edge_agent.local_api.schema import schema
loaded = sorted(name for name, module in sys.modules.items() if module is not None)
print(json.dumps({{"modules": loaded, "schema": str(schema)}}))
"""

# SQLAlchemy's asyncio layer with the ORM and greenlet (~7 MB): an SQLite edge runs on db/edge/threaded.py.
KEPT_OUT = ("sqlalchemy.ext.asyncio", "sqlalchemy.orm", "greenlet", "aiosqlite", "asyncpg")


def _agent_imports(keep_out: bool) -> dict:
    code = AGENT_IMPORTS.format(keep_out=keep_out)
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def test_the_agent_does_not_import_what_it_does_not_use():
    loaded = _agent_imports(keep_out=False)["modules"]
    assert "edge_agent.service" in loaded
    assert [m for m in loaded if m.startswith(KEPT_OUT)] == []


def test_the_agent_process_goes_without_unused_optional_modules_and_serves_the_same_schema():
    plain, kept_out = _agent_imports(keep_out=False), _agent_imports(keep_out=True)
    assert [
        m for m in kept_out["modules"] if m.split(".")[0] in {"watchfiles"} or m.startswith("pydantic.v1")
    ] == []
    assert set(UNUSED_OPTIONAL_MODULES) <= set(plain["modules"])  # the libraries do load them when they can
    assert kept_out["schema"] == plain["schema"]
