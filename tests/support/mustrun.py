"""In CI, a skipped test that needs PostgreSQL, Chromium or network namespaces fails the run instead of passing."""

import os

import pytest

MUST_RUN_MARKERS = ("postgres", "browser", "netns")
_skipped_must_run: list[str] = []


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_collection_modifyitems(config, items) -> None:
    """Mark tests using the PostgreSQL fixtures as `postgres`, and every test with its layer (tests/support/layers.py)."""
    from tests.support.layers import mark_layers

    pg_fixtures = {"pg_server", "pg_empty_url", "central_pg_url", "new_pg_database"}
    for item in items:
        if pg_fixtures & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)
    mark_layers(items)


def pytest_runtest_logreport(report) -> None:
    """Remember must-run tests that were skipped."""
    if report.skipped and any(marker in report.keywords for marker in MUST_RUN_MARKERS):
        _skipped_must_run.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus) -> None:
    """Fail the session in CI when any must-run test was skipped."""
    if _in_ci() and _skipped_must_run:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter) -> None:
    """Say which must-run tests were skipped (CI fails because of it)."""
    if _skipped_must_run:
        verdict = "FAILING the run (CI=true)" if _in_ci() else "allowed outside CI"
        terminalreporter.write_line(
            f"{len(_skipped_must_run)} must-run test(s) skipped, {verdict}:", red=_in_ci()
        )
        for nodeid in _skipped_must_run:
            terminalreporter.write_line(f"  {nodeid}")
