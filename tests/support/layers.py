"""The test layers as pytest markers, given by folder or fixture so a new test gets its marker without asking.

- browser: under a `browser` folder (headless Chromium);
- e2e: under an `e2e` folder (several deployables together);
- integration: uses a real outer part (PostgreSQL, an SQLite file, a running server, a simulated meter);
- unit: everything else.
Select with `pytest -m unit`, `-m "not browser"`, ...
"""

LAYERS = ("unit", "integration", "e2e", "browser")
# Fixture names include every fixture a test depends on, so the base fixtures are enough here.
INTEGRATION_FIXTURES = frozenset(
    {"pg_server", "sqlite_url", "edge_engine", "central_server_factory", "simulator", "subnets"}
)


def layer_of(parts: tuple[str, ...], fixtures: set[str], markers: set[str]) -> str:
    """The layer of one test from its path parts, fixture names and explicit markers."""
    if "browser" in parts or "browser" in markers:
        return "browser"
    if "e2e" in parts:
        return "e2e"
    if INTEGRATION_FIXTURES & fixtures or {"postgres", "netns"} & markers:
        return "integration"
    return "unit"


def mark_layers(items) -> None:
    """Add the layer marker to every collected test that has none of its own."""
    import pytest

    for item in items:
        markers = {m.name for m in item.iter_markers()}
        if markers & set(LAYERS) and not markers & {"postgres", "netns"}:
            continue
        layer = layer_of(item.path.parts, set(getattr(item, "fixturenames", ())), markers)
        item.add_marker(getattr(pytest.mark, layer))
