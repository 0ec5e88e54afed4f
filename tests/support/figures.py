"""Figures that tests measure (counts of readings, inputs tried) printed in the run's summary, even with -q."""

FIGURES: list[str] = []


def report(line: str) -> None:
    """Keep one line for the terminal summary."""
    FIGURES.append(line.strip())


def write_figures(terminalreporter) -> None:
    """Print the collected figures under their own heading."""
    if FIGURES:
        terminalreporter.section("figures measured by the tests")
        for line in FIGURES:
            terminalreporter.write_line(line)
