"""The suite's own rules hold when `make test` spreads it over pytest-xdist workers: a skipped must-run test
fails CI, measured figures reach the summary, tests holding one resource share one xdist group."""

from types import SimpleNamespace

import pytest

from tests.support.parallel import group_names

pytest_plugins = ("pytester",)

SUITE_PLUGINS = (
    'pytest_plugins = ("tests.support.mustrun", "tests.support.parallel", "tests.support.figures")\n'
)
TESTS = """
import os
from pathlib import Path

import pytest

from tests.support.figures import report


@pytest.fixture(scope="module")
def server():
    with Path(__file__).with_name("setups.txt").open("a") as setups:
        setups.write(os.environ.get("PYTEST_XDIST_WORKER", "main") + "\\n")


def test_uses_the_module_server(server):
    pass


def test_uses_it_too(server):
    pass


@pytest.mark.postgres
def test_needs_the_database():
    pytest.skip("PostgreSQL not reachable (as on a machine without it)")


def test_measures_a_figure():
    report("figure measured on a worker: 42 readings")


def test_plain():
    assert True
"""


@pytest.fixture
def suite(pytester, monkeypatch):
    """A small suite with the project's hooks, run as `pytest -n 2 --dist loadgroup` in a fresh process."""
    for name in (
        "PYTEST_XDIST_WORKER",
        "PYTEST_XDIST_WORKER_COUNT",
        "PYTEST_XDIST_TESTRUNUID",
        "PYTEST_ADDOPTS",
    ):
        monkeypatch.delenv(name, raising=False)
    pytester.makeconftest(SUITE_PLUGINS)
    pytester.makepyfile(test_rules=TESTS)

    def run(ci: str):
        monkeypatch.setenv("CI", ci)
        return pytester.runpytest_subprocess("-n", "2", "--dist", "loadgroup", "-p", "no:cacheprovider")

    return run


def test_a_skipped_must_run_test_fails_ci_under_xdist(suite, pytester):
    result = suite("true")
    result.assert_outcomes(passed=4, skipped=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*1 must-run test(s) skipped, FAILING the run (CI=true)*",
            "*test_rules.py::test_needs_the_database*",
        ]
    )
    result.stdout.fnmatch_lines(
        ["*figures measured by the tests*", "figure measured on a worker: 42 readings"]
    )
    setups = (pytester.path / "setups.txt").read_text().split()
    assert len(setups) == 1 and setups[0].startswith("gw")  # the module's tests ran on one worker


def test_outside_ci_the_skip_is_reported_and_allowed(suite):
    result = suite("")
    result.assert_outcomes(passed=4, skipped=1)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*1 must-run test(s) skipped, allowed outside CI*"])


def _item(nodeid: str, *scopes: str) -> SimpleNamespace:
    fixtures = {f"fixture_{i}": [SimpleNamespace(scope=scope)] for i, scope in enumerate(scopes)}
    return SimpleNamespace(nodeid=nodeid, _fixtureinfo=SimpleNamespace(name2fixturedefs=fixtures))


def test_tests_sharing_a_resource_share_a_group_and_others_spread():
    items = [
        _item("tests/edge_agent/test_new_feature.py::test_a", "function"),
        _item("tests/edge_agent/test_new_feature.py::test_b", "session"),
        _item("tests/edge_agent/test_inventory.py::test_c"),
        _item("tests/edge_agent/bacnet/test_awkward_devices.py::test_d"),
        _item("tests/edge_agent/local_api/test_x.py::test_e"),
        _item("tests/edge_agent/local_api/test_y.py::test_f"),
        _item("tests/api/test_server_per_module.py::test_g", "module"),
        _item("tests/api/test_server_per_module.py::test_h", "function", "module"),
        _item("tests/api/test_plain.py::test_i", "function", "session"),
        _item("tests/api/test_plain.py::test_j"),
    ]
    groups = group_names(items)
    group = [groups.get(item.nodeid) for item in items]
    assert group[0] == group[1] is not None  # a new module in an address-owning directory: one group
    assert group[2] == group[3] is not None and group[2] != group[0]  # modules sharing 127.0.44.x
    assert group[4] == group[5] is not None  # the local API tests' agent address
    assert group[6] == group[7] is not None  # a module-scoped fixture: set up on one worker only
    assert group[8] is None and group[9] is None  # nothing held: spread one by one
    assert len({group[0], group[2], group[4], group[6]}) == 4
