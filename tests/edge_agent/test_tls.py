"""The uploader's client verifies central's TLS certificate, trusting a private CA given as CLIENT_CA_FILE."""

import os
import socket
import subprocess
import sys
import time

import pytest
import trustme

from edge_agent.central import CentralClient
from edge_agent.errors import CentralUnreachable
from tests.edge_agent.central_support import new_site
from tests.support.central_server import REPO_ROOT, free_port

pytestmark = pytest.mark.postgres


@pytest.fixture
def tls_central(central_pg_url, tmp_path):
    """`meterit api` over HTTPS with a certificate from a throwaway CA; yields (url, CA file)."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    ca_file, cert_file, key_file = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    cert.private_key_pem.write_to_path(str(key_file))
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    port = free_port()
    command = [sys.executable, "-m", "meterit.cli", "api", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--ssl-certfile", str(cert_file), "--ssl-keyfile", str(key_file), "--no-migrate"]
    env = {**os.environ, "DATABASE_URL": central_pg_url, "ENVIRONMENT": "development"}
    with open(tmp_path / "central.log", "wb") as log:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert process.poll() is None and time.monotonic() < deadline, (
                tmp_path / "central.log"
            ).read_text()
            time.sleep(0.2)
    yield f"https://127.0.0.1:{port}/graphql", str(ca_file)
    process.terminate()
    process.wait(10)


async def test_private_ca_is_trusted_only_when_given(tls_central, central_pg_url):
    url, ca_file = tls_central
    _site_id, key = await new_site(central_pg_url)
    async with CentralClient(url, key, ca_file=ca_file) as central:
        assert (await central.authenticate())["name"].startswith("edge-test-")
    with pytest.raises(CentralUnreachable):
        async with CentralClient(url, key) as central:
            await central.authenticate()
