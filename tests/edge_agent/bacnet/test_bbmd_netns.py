"""Foreign-device registration with a BBMD across two IP subnets made in network namespaces by this test.

edge namespace 127.18.1.2/24 ── hub (IP router) ── site namespace 127.18.2.0/24: BBMD .2, meters .10-.12.
The edge binds 47809 (a port other than the meters'), registers with the BBMD, discovers the meters with a
Who-Is the BBMD distributes on the site subnet, reads them, renews its registration and registers again
after a lapse. Needs root and iproute2: skipped otherwise, which fails a CI run (must-run marker `netns`).
"""

import json
import subprocess

import pytest

from tests.support.netns import lab, netns_unavailable

pytestmark = pytest.mark.netns

DEVICE_BASE = 4_018_000


@pytest.fixture
def subnets():
    """The three namespaces, linked and routed; yields the Lab and the namespace names."""
    reason = netns_unavailable()
    if reason:
        pytest.skip(reason)
    with lab() as made:
        edge = made.namespace("edge")
        hub = made.namespace("hub")
        site = made.namespace("site")
        made.link(edge, ["127.18.1.2/24"], hub, ["127.18.1.1/24"])
        site_addresses = ["127.18.2.2/24"] + [f"127.18.2.{10 + i}/24" for i in range(3)]
        made.link(hub, ["127.18.2.1/24"], site, site_addresses)
        made.route(edge, "127.18.2.0/24", "127.18.1.1")
        made.route(site, "127.18.1.0/24", "127.18.2.1")
        made.forward(hub)
        yield made, edge, site


def _site(made, site: str):
    spec = {
        "bbmd": "127.18.2.2/24:47808",
        "bbmd_device": DEVICE_BASE + 5000,  # outside the Who-Is instance range
        "meters": 3,
        "base": "127.18.2.10",
        "device_base": DEVICE_BASE,
    }
    process = made.python(site, "-m", "tests.support.bacnet_roles", "site", json.dumps(spec))
    line = process.stdout.readline()
    assert line.strip() == "ready", process.stderr.read()
    return process


def _edge(made, edge: str, settings: dict, meters: list, **extra) -> dict:
    spec = {"settings": settings, "meters": meters, "instances": [DEVICE_BASE, DEVICE_BASE + 999], **extra}
    process = made.python(edge, "-m", "tests.support.bacnet_roles", "edge", json.dumps(spec))
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def _meters(count: int) -> list[dict]:
    return [
        {
            "id": f"meter-{i + 1:03d}",
            "name": f"meter {i + 1}",
            "bacnet_device_id": DEVICE_BASE + i + 1,
            "bacnet_ip": f"127.18.2.{10 + i}",
            "data_points": [{"name": "total_kwh", "object_type": "analogInput", "instance": 0}],
        }
        for i in range(count)
    ]


EDGE = {
    "bacnet_interface": "127.18.1.2/24",
    "bacnet_port": 47809,
    "bacnet_broadcast_address": "127.18.1.255",
    "bacnet_timeout_seconds": 1.5,
}


def test_edge_registers_with_the_bbmd_discovers_and_reads_meters_on_the_other_subnet(subnets):
    made, edge, site = subnets
    _site(made, site)
    report = _edge(
        made, edge, {**EDGE, "bacnet_bbmd_address": "127.18.2.2", "bacnet_bbmd_ttl": 5}, _meters(1)
    )
    assert report["registered"] is True and report["state"] == "registered"
    assert sorted(report["discovered"]) == [[DEVICE_BASE + i + 1, f"127.18.2.{10 + i}", 2] for i in range(3)]
    assert report["poll"] == [1, 0, 1]
    assert report["renewals"] >= 1
    assert report["after_lapse"] == "unregistered"
    assert report["re_registered"] is True and report["final_state"] == "registered"


def test_without_the_bbmd_the_broadcast_stays_on_the_edge_subnet(subnets):
    made, edge, site = subnets
    _site(made, site)
    report = _edge(made, edge, EDGE, [])
    assert report["registered"] is None and report["state"] is None
    assert report["discovered"] == []


def test_devices_behind_a_bacnet_router_are_read_as_network_and_address(subnets):
    """Network 1 (edge subnet) and network 5 (site subnet) joined only by a BACnet router in the hub.

    No IP route joins the subnets here (the hub does not forward): every packet to a meter goes through the
    router. bacpypes3 takes any 127.x on its own port for itself, so on network 5 the router's port (47811)
    differs from the meters' (47810), and on network 1 the edge (47809) differs from the router (47808).
    """
    made, edge, site = subnets
    hub = f"mt{made.tag}-hub"
    subprocess.run(["ip", "netns", "exec", hub, "sysctl", "-qw", "net.ipv4.ip_forward=0"], check=True)
    site_spec = {"meters": 2, "base": "127.18.2.10", "port": 47810, "device_base": DEVICE_BASE + 100}
    made_site = made.python(site, "-m", "tests.support.bacnet_roles", "site", json.dumps(site_spec))
    assert made_site.stdout.readline().strip() == "ready", made_site.stderr.read()
    router_spec = {
        "device": DEVICE_BASE + 6000,
        "ports": [[1, "127.18.1.1/24:47808"], [5, "127.18.2.1/24:47811"]],
    }
    router = made.python(hub, "-m", "tests.support.bacnet_roles", "router", json.dumps(router_spec))
    assert router.stdout.readline().strip() == "ready", router.stderr.read()
    meters = [
        {
            "id": f"routed-{i + 1}",
            "name": f"routed meter {i + 1}",
            "bacnet_device_id": DEVICE_BASE + 100 + i + 1,
            "bacnet_ip": f"5:127.18.2.{10 + i}:47810",
            "data_points": [
                {"name": "total_kwh", "object_type": "analogInput", "instance": 0},
                {"name": "current_kw", "object_type": "analogInput", "instance": 1},
            ],
        }
        for i in range(2)
    ]
    settings = {**EDGE, "bacnet_routes": "5=127.18.1.1:47808"}
    report = _edge(made, edge, settings, meters, broadcast=False)
    assert report["poll"] == [2, 0, 4], report["health"]
    assert sorted(report["discovered"]) == [
        [DEVICE_BASE + 100 + i + 1, f"5:127.18.2.{10 + i}:47810", 2] for i in range(2)
    ]
