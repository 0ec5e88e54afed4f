"""One upload followed across both sides by its batch id: the edge's sync.log and central's log files."""

import json
import logging

import pytest

from db.edge.outbox import Outbox
from db.edge.store import list_sync_log
from edge_agent.logs import setup_file_logging
from tests.edge_agent.central_support import new_site
from tests.edge_agent.conftest import make_edge_db
from tests.edge_agent.test_uploader import make_uploader, readings
from tests.support.central_server import CentralServer

pytestmark = pytest.mark.postgres


def lines_with(path, batch_id: str) -> list[dict]:
    """The JSON lines of a log file that carry the batch id as their batch_id field."""
    if not path.exists():
        return []
    found = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [line for line in found if line.get("batch_id") == batch_id]


async def test_one_uploads_batch_id_is_in_the_edge_and_central_logs(central_pg_url, sqlite_url, tmp_path):
    central_logs, edge_logs = tmp_path / "central-logs", tmp_path / "edge-logs"
    site_id, key = await new_site(central_pg_url)
    engine = await make_edge_db(sqlite_url)
    handlers = setup_file_logging(str(edge_logs))
    try:
        with CentralServer(
            central_pg_url, env={"LOG_DIR": str(central_logs)}, log_path=tmp_path / "central.out"
        ) as central:
            outbox = Outbox(engine)
            await outbox.open()
            await outbox.add(readings(10))
            result = await make_uploader(outbox, central.url, key).sync_once(forced=True)
            assert result.outcome == "ok" and result.batches == 1
    finally:
        for handler in handlers:
            logging.getLogger().removeHandler(handler)
            handler.close()
    batch_id = (await list_sync_log(engine, 1))[0].batch_id
    await engine.dispose()

    edge = lines_with(edge_logs / "sync.log", batch_id)
    assert [line["logger"] for line in edge] == ["edge_agent.uploader"] and edge[0]["readings"] == 10
    assert lines_with(edge_logs / "edge.log", batch_id) == edge
    request = lines_with(central_logs / "access.log", batch_id)
    assert len(request) == 1
    assert {k: request[0][k] for k in ("method", "path", "operation", "status", "site_id")} == {
        "method": "POST",
        "path": "/graphql",
        "operation": "Upload",
        "status": 200,
        "site_id": site_id,
    }
    assert request[0]["duration_ms"] > 0
    stored = lines_with(central_logs / "central.log", batch_id)
    assert {line["logger"] for line in stored} == {"api.services.edge", "api.access"}
