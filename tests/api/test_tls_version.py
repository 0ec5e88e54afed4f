"""`meterit api` serves TLS 1.3 only unless TLS_MIN_VERSION=1.2."""

import socket
import ssl

import pytest
import trustme

from meterit.tls import MinimumTlsConfig


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A throwaway CA and a certificate for 127.0.0.1: (cert file, key file, CA file)."""
    tmp = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    files = tmp / "cert.pem", tmp / "key.pem", tmp / "ca.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(files[0]))
    cert.private_key_pem.write_to_path(str(files[1]))
    ca.cert_pem.write_to_path(str(files[2]))
    return tuple(map(str, files))


async def app(scope, receive, send):
    """A do-nothing ASGI app for the configs below."""


def test_the_server_context_refuses_tls_12_unless_allowed(certificate):
    cert, key, _ = certificate
    here = f"{__name__}:app"
    default = MinimumTlsConfig(here, ssl_certfile=cert, ssl_keyfile=key)
    assert default.tls_min_version == "1.3"
    allowed = MinimumTlsConfig(here, ssl_certfile=cert, ssl_keyfile=key, tls_min_version="1.2")
    with pytest.raises(ValueError, match="TLS_MIN_VERSION"):
        MinimumTlsConfig("x:y", tls_min_version="1.1")
    for config, lowest in ((default, ssl.TLSVersion.TLSv1_3), (allowed, ssl.TLSVersion.TLSv1_2)):
        config.load()
        assert config.ssl.minimum_version == lowest


def test_a_tls_12_client_is_refused_by_a_running_api(central_server_factory, central_pg_url, certificate):
    cert, key, ca = certificate
    server = central_server_factory(
        central_pg_url, args=["--no-migrate", "--ssl-certfile", cert, "--ssl-keyfile", key], verify=ca
    )
    host, port = server.base_url.removeprefix("https://").split(":")
    old = ssl.create_default_context(cafile=ca)
    old.maximum_version = ssl.TLSVersion.TLSv1_2
    with pytest.raises(ssl.SSLError), socket.create_connection((host, int(port)), timeout=10) as raw:
        old.wrap_socket(raw, server_hostname=host)
    current = ssl.create_default_context(cafile=ca)
    with (
        socket.create_connection((host, int(port)), timeout=10) as raw,
        current.wrap_socket(raw, server_hostname=host) as tls,
    ):
        assert tls.version() == "TLSv1.3"
