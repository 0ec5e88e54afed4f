"""The soak's two network namespaces (central, site) joined by a veth pair on 127.19.x, and netem on it.

Only namespaces this soak creates are touched; every address is in 127.0.0.0/8, so nothing leaves the
machine. The site namespace keeps loopback's `local 127.0.0.0/8` (meters bind anywhere in it) with one
more specific route sending central's address over the veth; the central namespace keeps only 127.0.0.1
local, so its veth address is reachable from the site.
"""

import os
import shutil
import subprocess

CENTRAL_IP, SITE_IP = "127.19.0.1", "127.19.0.2"


def netns_unavailable() -> str | None:
    """Why namespaces and netem cannot be used here, or None."""
    if os.geteuid() != 0:
        return "network namespaces and tc netem need root"
    for tool in ("ip", "tc"):
        if not shutil.which(tool):
            return f"the `{tool}` command is missing"
    return None


def _run(*args: str, check: bool = True) -> str:
    done = subprocess.run(list(args), capture_output=True, text=True, check=False, timeout=30)
    if check and done.returncode:
        raise RuntimeError(f"{' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


class SoakNetwork:
    """Namespaces `<tag>-c` (central) and `<tag>-s` (site), a veth between them, and netem on both ends."""

    def __init__(self, tag: str) -> None:
        self.central, self.site = f"{tag}-c", f"{tag}-s"
        self.central_dev, self.site_dev = f"{tag}c", f"{tag}s"
        self.made: list[str] = []

    def create(self) -> None:
        """Make both namespaces and link them."""
        for ns in (self.central, self.site):
            _run("ip", "netns", "add", ns)
            self.made.append(ns)
            _run("ip", "-n", ns, "link", "set", "lo", "up")
            _run("ip", "netns", "exec", ns, "sysctl", "-qw",
                 "net.ipv4.conf.all.route_localnet=1", "net.ipv4.conf.default.route_localnet=1")  # fmt: skip
        _run("ip", "-n", self.central, "route", "del", "local", "127.0.0.0/8", "dev", "lo", "table", "local")
        _run("ip", "link", "add", self.central_dev, "type", "veth", "peer", "name", self.site_dev)
        for ns, dev, address in ((self.central, self.central_dev, f"{CENTRAL_IP}/24"),
                                 (self.site, self.site_dev, f"{SITE_IP}/32")):  # fmt: skip
            _run("ip", "link", "set", dev, "netns", ns)
            _run("ip", "-n", ns, "addr", "add", address, "dev", dev)
            _run("ip", "netns", "exec", ns, "sysctl", "-qw", f"net.ipv4.conf.{dev}.route_localnet=1")
            _run("ip", "-n", ns, "link", "set", dev, "up")
        _run("ip", "-n", self.site, "route", "add", f"{CENTRAL_IP}/32", "dev", self.site_dev,
             "table", "local", "src", SITE_IP)  # fmt: skip
        _run("ip", "-n", self.central, "route", "add", f"{SITE_IP}/32", "dev", self.central_dev)

    def wrap(self, ns: str) -> list[str]:
        """Command prefix that runs a program inside ns."""
        return ["ip", "netns", "exec", ns]

    def has_netem(self) -> bool:
        """True when the kernel has the netem qdisc (some VM kernels are built without sch_netem)."""
        try:
            self.shape("netem delay 1ms")
        except RuntimeError:
            return False
        self.clear()
        return True

    def shape(self, qdisc: str) -> str:
        """Put one root qdisc (e.g. 'netem loss 100%') on both directions; returns `tc -s qdisc show`."""
        shown = []
        for ns, dev in ((self.site, self.site_dev), (self.central, self.central_dev)):
            _run("ip", "netns", "exec", ns, "tc", "qdisc", "replace", "dev", dev, "root", *qdisc.split())
            shown.append(_run("ip", "netns", "exec", ns, "tc", "qdisc", "show", "dev", dev).strip())
        return " | ".join(shown)

    def stats(self) -> str:
        """`tc -s qdisc show` of the site's end (packets sent and dropped), as evidence."""
        return " ".join(_run("ip", "netns", "exec", self.site, "tc", "-s", "qdisc", "show", "dev",
                             self.site_dev).split())  # fmt: skip

    def clear(self) -> None:
        """Remove netem from both ends."""
        for ns, dev in ((self.site, self.site_dev), (self.central, self.central_dev)):
            _run("ip", "netns", "exec", ns, "tc", "qdisc", "del", "dev", dev, "root", check=False)

    def destroy(self) -> None:
        """Delete the namespaces (the veth goes with them)."""
        for ns in self.made:
            _run("ip", "netns", "del", ns, check=False)
        self.made.clear()
