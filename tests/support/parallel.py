"""Groups for pytest-xdist (`make test` runs `-n N --dist loadgroup`): no two tests hold one resource at once.

A test holds resources by where it lives and what it uses (`held_resources`); tests joined by a resource,
directly or through other tests, form one xdist group, which one worker runs test after test. Tests that
hold nothing are spread over the workers one by one. New modules are covered without edits:
- a module in a directory whose modules own fixed loopback addresses (BACnet meters and clients on 127.x,
  Reflex build dirs) is one resource, by the convention written in tests/edge_agent/conftest.py;
- a module with a module-scoped fixture (a server, a fleet, a dashboard) is one resource, so the fixture is
  set up once, on one worker;
- ADDRESS_SHARERS joins modules that share addresses with other modules (add a line when you must share).
Every worker has its own PostgreSQL databases (tests/support/pg.py names them by process id) and free ports.
"""

import re

import pytest

ADDRESS_OWNING_DIRS = (
    "tests/edge_agent/",
    "tests/edge_agent/local_api/",
    "tests/e2e/",
    "tests/browser/",
    "tests/mcp/test_edge_",
)
ADDRESS_SHARERS = {
    "tests/edge_agent/test_inventory.py": "bacnet 127.0.44.0/24",
    "tests/edge_agent/bacnet/test_awkward_devices.py": "bacnet 127.0.44.0/24",
    "tests/edge_agent/test_service.py": "bacnet 127.0.43.0/24",
    "tests/edge_agent/test_outage_timing.py": "bacnet 127.0.43.0/24",  # settings_for() of test_service
    "tests/edge_agent/local_api/": "bacnet 127.0.0.220:47809",  # every local API test's agent
}
WIDE_SCOPES = ("module", "package", "class")


def _module_path(item) -> str:
    return item.nodeid.split("::", 1)[0]


def held_resources(item) -> set[str]:
    """Names of the machine-wide things the test holds while it runs (empty: it may run beside anything)."""
    path = _module_path(item)
    held = {shared for prefix, shared in ADDRESS_SHARERS.items() if path.startswith(prefix)}
    if path.startswith(ADDRESS_OWNING_DIRS):
        held.add(f"module {path}")
    fixturedefs = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
    if any(d.scope in WIDE_SCOPES for defs in fixturedefs.values() for d in defs):
        held.add(f"module {path}")
    return held


def group_names(items) -> dict[str, str]:
    """nodeid -> group, joining tests that hold a common resource (union-find); ungrouped tests are left out."""
    parent: dict[str, str] = {}

    def find(name: str) -> str:
        while parent.setdefault(name, name) != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    held = {item.nodeid: sorted(held_resources(item)) for item in items}
    for resources in held.values():
        for other in resources[1:]:
            parent[find(other)] = find(resources[0])
    return {nodeid: find(resources[0]) for nodeid, resources in held.items() if resources}


def _send_to_group(item, group: str) -> None:
    """What xdist's worker does for a marked test: the nodeid ends in @group, which its scheduler reads.
    xdist 3.8 sets `item._nodeid`, which pytest 9.2 no longer reads (the nodeid comes from `item._id`)."""
    from _pytest.nodeid import coerce_node_id

    item._id = coerce_node_id(f"{item.nodeid}@{group}")


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the marks
def pytest_collection_modifyitems(config, items) -> None:
    """Mark each test holding a resource with the xdist group of that resource."""
    on_grouping_worker = getattr(config.option, "loadgroup", False) and hasattr(config, "workerinput")
    groups = group_names(items)
    for item in items:
        if item.nodeid not in groups:
            continue
        name = re.sub(r"[^A-Za-z0-9_./-]+", "_", groups[item.nodeid])
        item.add_marker(pytest.mark.xdist_group(name))
        if on_grouping_worker and hasattr(item, "_id"):
            _send_to_group(item, name)
