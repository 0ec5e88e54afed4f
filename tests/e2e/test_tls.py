"""The edge verifies central's TLS certificate: a private CA works with CLIENT_CA_FILE, and only with it."""

import time

import httpx
import pytest
import trustme

from db.migrate import upgrade
from tests.e2e.support import (
    CENTRAL_KEYS_SQL,
    central_with_site,
    fill_outbox,
    meterit,
    outbox_depth,
    query_rows,
    spawn,
)
from tests.support.central_server import free_port


@pytest.fixture
def tls_central(new_pg_database, tmp_path):
    """`meterit api` serving HTTPS with a certificate from a throwaway CA."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "server.pem"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    url = new_pg_database()
    key = central_with_site(url, "TLS site")
    port = free_port()
    process = spawn(
        "api",
        "--port",
        str(port),
        "--ssl-certfile",
        str(tmp_path / "server.pem"),
        "--ssl-keyfile",
        str(tmp_path / "server.pem"),
        env={"DATABASE_URL": url},
        log=tmp_path / "central.log",
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if (
                httpx.get(f"https://127.0.0.1:{port}/healthz", verify=str(tmp_path / "ca.pem")).status_code
                == 200
            ):
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("TLS central did not start: " + (tmp_path / "central.log").read_text()[-2000:])
    yield {"url": f"https://127.0.0.1:{port}/graphql", "key": key, "db": url, "ca": str(tmp_path / "ca.pem")}
    process.terminate()
    process.wait(10)


def edge_env(tmp_path, tls_central, **extra) -> dict[str, str]:
    edge_db = f"sqlite+aiosqlite:///{tmp_path}/edge.db"
    return {
        "DATABASE_URL": edge_db,
        "CLIENT_API_URL": tls_central["url"],
        "CLIENT_API_KEY": tls_central["key"],
        "METERS_FILE": str(tmp_path / "none.json"),
        "LOG_DIR": str(tmp_path / "logs"),
        "MAX_RETRIES": "0",
        **extra,
    }


def test_edge_uploads_over_tls_only_when_it_trusts_the_ca(tls_central, tmp_path):
    edge_db = f"sqlite+aiosqlite:///{tmp_path}/edge.db"
    upgrade("edge", edge_db)
    fill_outbox(edge_db, 5)

    untrusted = meterit("edge", "sync", env=edge_env(tmp_path, tls_central), cwd=tmp_path)
    assert untrusted.returncode != 0
    assert "certificate" in (untrusted.stdout + untrusted.stderr).lower()
    assert outbox_depth(edge_db) == 5, "an unverified upload must keep the readings"
    assert query_rows(tls_central["db"], "SELECT count(*) FROM readings")[0][0] == 0

    trusted = meterit(
        "edge", "sync", env=edge_env(tmp_path, tls_central, CLIENT_CA_FILE=tls_central["ca"]), cwd=tmp_path
    )
    assert trusted.returncode == 0, trusted.stdout + trusted.stderr
    assert outbox_depth(edge_db) == 0
    assert len(query_rows(tls_central["db"], CENTRAL_KEYS_SQL)) == 5
