"""`meterit api` options: --export-schema, and TLS with two workers."""

import httpx
import pytest
import trustme

from meterit.cli import main


def test_export_schema_writes_sdl(tmp_path):
    target = tmp_path / "schema.graphql"
    assert main(["api", "--export-schema", str(target)]) == 0
    sdl = target.read_text()
    for needle in (
        "uploadReadings(batch: ReadingBatchInput!): UploadOutcome!",
        "scalar ReadingRows",
        "type Subscription",
    ):
        assert needle in sdl


@pytest.mark.slow
def test_tls_with_two_workers(central_server_factory, central_pg_url, tmp_path):
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert_file, key_file, ca_file = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    ca.cert_pem.write_to_path(str(ca_file))
    server = central_server_factory(
        central_pg_url,
        workers=2,
        args=["--no-migrate", "--ssl-certfile", str(cert_file), "--ssl-keyfile", str(key_file)],
        verify=str(ca_file),
    )
    assert server.url.startswith("https://")
    for _ in range(4):  # fresh connections land on either worker
        response = httpx.post(server.url, json={"query": "{ me { id } }"}, verify=str(ca_file))
        assert response.json() == {"data": {"me": None}}
