"""Throwaway network namespaces joined by veth pairs, on 127.x addresses, for BACnet tests across subnets.

Only the test's own namespaces are touched. Inside each one the kernel is told to route 127.x like any
other address (`route_localnet`, and the catch-all `local 127.0.0.0/8` route replaced by 127.0.0.1 only),
so the subnets are 127.18.N.0/24 and nothing ever leaves the machine.
"""

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def netns_unavailable() -> str | None:
    """Why namespaces cannot be made here (not root, no `ip`), or None."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if not shutil.which("ip"):
        return "the `ip` command (iproute2) is missing"
    return None


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


def _sysctl(ns: str, *settings: str) -> None:
    subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw", *settings], check=True, capture_output=True)


class Lab:
    """Namespaces made by one test; `link()` joins two with a veth pair and addresses."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.namespaces: list[str] = []
        self.processes: list[subprocess.Popen] = []
        self._links = 0

    def namespace(self, role: str) -> str:
        """A new namespace with loopback up and 127.x routable."""
        name = f"mt{self.tag}-{role}"
        _ip("netns", "add", name)
        self.namespaces.append(name)
        _ip("-n", name, "link", "set", "lo", "up")
        _ip("-n", name, "route", "del", "local", "127.0.0.0/8", "dev", "lo", "table", "local")
        _sysctl(name, "net.ipv4.conf.all.route_localnet=1", "net.ipv4.conf.default.route_localnet=1")
        return name

    def link(self, ns_a: str, addresses_a: list[str], ns_b: str, addresses_b: list[str]) -> None:
        """A veth pair between two namespaces with addresses ('127.18.1.2/24', ...) on each end."""
        self._links += 1
        end_a, end_b = f"v{self.tag}{self._links}a", f"v{self.tag}{self._links}b"
        _ip("link", "add", end_a, "type", "veth", "peer", "name", end_b)
        for ns, end, addresses in ((ns_a, end_a, addresses_a), (ns_b, end_b, addresses_b)):
            _ip("link", "set", end, "netns", ns)
            for address in addresses:
                _ip("-n", ns, "addr", "add", address, "dev", end)
            _sysctl(ns, f"net.ipv4.conf.{end}.route_localnet=1")
            _ip("-n", ns, "link", "set", end, "up")

    def route(self, ns: str, network: str, via: str) -> None:
        """A route in ns to network through the gateway via."""
        _ip("-n", ns, "route", "add", network, "via", via)

    def forward(self, ns: str) -> None:
        """Let ns route IP packets between its links."""
        _sysctl(ns, "net.ipv4.ip_forward=1")

    def python(self, ns: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        """Start `python args...` from the repository inside ns (stdout piped, line by line)."""
        process = subprocess.Popen(
            ["ip", "netns", "exec", ns, sys.executable, *args],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        self.processes.append(process)
        return process

    def close(self) -> None:
        """Stop the processes started here and delete the namespaces (their veths go with them)."""
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(5)
        for name in self.namespaces:
            subprocess.run(["ip", "netns", "del", name], capture_output=True)


@contextmanager
def lab(tag: str | None = None) -> Iterator[Lab]:
    """A Lab whose namespaces are deleted on exit, whatever happens."""
    made = Lab(tag or str(os.getpid() % 100_000))
    try:
        yield made
    finally:
        made.close()
