"""CIDR lists and the client address behind trusted proxies (db/central/networks.py)."""

from ipaddress import ip_address, ip_network

import pytest

from db.central.networks import client_address, normalize_networks, split_networks, stored_networks
from db.errors import InvalidNetwork

TRUSTED = (ip_network("127.0.0.1/32"), ip_network("::1/128"))


def test_normalize_accepts_ipv4_ipv6_and_bare_addresses_once():
    values = ["198.51.100.0/24", " 2001:DB8::/32 ", "203.0.113.9", "2001:db8::/32", ""]
    assert normalize_networks(values) == ["198.51.100.0/24", "2001:db8::/32", "203.0.113.9/32"]


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("198.51.100.7/24", "did you mean 198.51.100.0/24"),
        ("not-a-net", "not an IPv4 or IPv6 network"),
        ("198.51.100.0/33", "not an IPv4 or IPv6 network"),
    ],
)
def test_a_wrong_network_is_a_clear_error(value, needle):
    with pytest.raises(InvalidNetwork, match=needle):
        normalize_networks([value])


def test_split_and_stored_forms():
    assert split_networks("198.51.100.0/24, 2001:db8::/32 ,") == ["198.51.100.0/24", "2001:db8::/32"]
    assert stored_networks('["198.51.100.0/24"]') == (ip_network("198.51.100.0/24"),)
    assert stored_networks(["2001:db8::/32"]) == (ip_network("2001:db8::/32"),)
    assert stored_networks(None) == () and stored_networks("[]") == ()


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("127.0.0.5", "198.51.100.7", "127.0.0.5"),  # an untrusted peer's header is ignored
        ("127.0.0.1", None, "127.0.0.1"),
        ("127.0.0.1", "198.51.100.7", "198.51.100.7"),
        ("127.0.0.1", "198.51.100.7, 203.0.113.9", "203.0.113.9"),  # the client wrote the left entry
        ("127.0.0.1", "198.51.100.7, ::1", "198.51.100.7"),  # past a chain of trusted proxies
        ("::1", "2001:db8::5", "2001:db8::5"),
        ("::ffff:127.0.0.1", "198.51.100.7", "198.51.100.7"),  # IPv4-mapped peer on a dual-stack socket
    ],
)
def test_client_address(peer, forwarded, expected):
    assert client_address(peer, forwarded, TRUSTED) == ip_address(expected)


def test_unreadable_forwarded_address_is_none():
    assert client_address("127.0.0.1", "198.51.100.7, garbage", TRUSTED) is None
    assert client_address(None, None, TRUSTED) is None
