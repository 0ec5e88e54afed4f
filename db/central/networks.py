"""Client networks (CIDR lists, IPv4 and IPv6): a site's allowlist and the trusted proxies in front of the API."""

import json
from collections.abc import Iterable
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

from db.errors import InvalidNetwork

Address = IPv4Address | IPv6Address
Networks = tuple[IPv4Network | IPv6Network, ...]


def split_networks(text: str) -> list[str]:
    """The entries of a comma- or space-separated list, without blanks."""
    return [part for part in text.replace(",", " ").split() if part]


def normalize_networks(values: Iterable[str]) -> list[str]:
    """Canonical CIDR strings (a bare address is its /32 or /128), without repeats; InvalidNetwork otherwise."""
    result: list[str] = []
    for value in values:
        text = value.strip()
        if not text:
            continue
        try:
            network = ip_network(text, strict=True)
        except ValueError as err:
            raise InvalidNetwork(_explain(text, err)) from err
        if str(network) not in result:
            result.append(str(network))
    return result


def _explain(text: str, err: ValueError) -> str:
    if "has host bits set" in str(err):
        return f"{text!r} has host bits set: did you mean {ip_network(text, strict=False)}?"
    return f"{text!r} is not an IPv4 or IPv6 network in CIDR notation (e.g. 192.0.2.0/24 or 2001:db8::/32)"


@lru_cache(maxsize=1024)
def _parsed(stored: str) -> Networks:
    return tuple(ip_network(value, strict=False) for value in json.loads(stored))


def stored_networks(stored: str | list | None) -> Networks:
    """The networks of a sites.allowed_networks value (a JSON text from a raw query, or a list)."""
    if not stored:
        return ()
    # Parsed once per distinct value: the check runs on every edge request.
    return _parsed(stored if isinstance(stored, str) else json.dumps(stored))


def parse_address(text: str) -> Address | None:
    """The address in text (an IPv4-mapped IPv6 address as IPv4), or None when it is not one."""
    try:
        address = ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def address_in(address: Address, networks: Networks) -> bool:
    """True when address belongs to one of networks (IPv4 and IPv6 never match each other)."""
    return any(address.version == network.version and address in network for network in networks)


def client_address(peer: str | None, forwarded_for: str | None, trusted: Networks) -> Address | None:
    """The client's address: the peer's, or from X-Forwarded-For when the peer is a trusted proxy.

    The header is read from the right (the entry the nearest proxy added) past every trusted proxy, so
    an address a client wrote into the header itself counts only behind a chain of trusted proxies.
    None when an address cannot be read.
    """
    address = parse_address(peer) if peer else None
    if address is None or not forwarded_for or not address_in(address, trusted):
        return address
    for entry in reversed([part.strip() for part in forwarded_for.split(",")]):
        address = parse_address(entry)
        if address is None or not address_in(address, trusted):
            return address
    return address
