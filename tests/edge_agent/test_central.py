"""Every client to central shares one TLS context per version of the CA file (loading it cost ~20 ms each time)."""

import os
import ssl

import trustme

from edge_agent.central import shared_ssl_context, verify_for


def test_one_context_per_ca_file_version(tmp_path):
    ca_file = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(ca_file))
    first = shared_ssl_context(str(ca_file))
    assert shared_ssl_context(str(ca_file)) is first
    trustme.CA().cert_pem.write_to_path(str(ca_file))  # a new CA written in place of the old one
    stat = os.stat(ca_file)
    os.utime(ca_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert shared_ssl_context(str(ca_file)) is not first
    assert shared_ssl_context(None) is shared_ssl_context(None)


def test_plain_http_gets_a_context_without_ca_certificates(tmp_path):
    ca_file = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(ca_file))
    bare = verify_for("http://127.0.0.1:8000/graphql", str(ca_file))
    assert bare.get_ca_certs() == [] and bare.verify_mode == ssl.CERT_REQUIRED
    assert verify_for("https://central.example/graphql", str(ca_file)) is shared_ssl_context(str(ca_file))
