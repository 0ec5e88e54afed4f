"""Figures that tests measure (counts of readings, inputs tried) printed in the run's summary, even with -q.

A figure travels on its test's report, so the summary shows it also when an xdist worker ran the test.
"""

import pytest

PROPERTY = "meterit-figure"
FIGURES: list[str] = []
_measured: list[str] = []  # during the running test phase, in this process


def report(line: str) -> None:
    """Keep one line for the terminal summary."""
    _measured.append(line.strip())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Put the figures of this test phase on its report."""
    outcome = yield
    if _measured:
        made = outcome.get_result()
        made.user_properties = [*made.user_properties, *((PROPERTY, line) for line in _measured)]
        _measured.clear()


def pytest_runtest_logreport(report) -> None:
    """Keep the figures of a finished test phase (in the process that prints the summary)."""
    FIGURES.extend(value for name, value in report.user_properties if name == PROPERTY)


def pytest_terminal_summary(terminalreporter) -> None:
    """Print the collected figures under their own heading."""
    if FIGURES:
        terminalreporter.section("figures measured by the tests")
        for line in FIGURES:
            terminalreporter.write_line(line)
