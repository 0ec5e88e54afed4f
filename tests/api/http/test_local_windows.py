"""The in-process moving windows of the site-key limits (no Redis): counts, waits and forgetting idle ones."""

import pytest

from api.http import site_limits
from api.http.site_limits import LocalWindows


@pytest.fixture
def ticks(monkeypatch):
    """A monotonic clock the test moves by hand."""
    now = [1000.0]
    monkeypatch.setattr(site_limits.time, "monotonic", lambda: now[0])
    return now


def test_a_window_allows_its_amount_then_says_how_long_to_wait(ticks):
    windows = LocalWindows()
    for _ in range(3):  # at 0, 10 and 20 s
        assert windows.hit(3, "site:1") is None
        ticks[0] += 10.0
    ticks[0] += 10.5
    assert windows.hit(3, "site:1") == 20  # the first leaves the window 19.5 s later
    assert windows.hit(3, "site:2") is None  # another identity counts on its own
    ticks[0] += 19.5
    assert windows.hit(3, "site:1") is None
    assert windows.hit(3, "site:1") == 10  # refused hits were not counted: the one at 10 s leaves next
    ticks[0] += 9.75
    assert windows.hit(3, "site:1") == 1  # never a wait of 0


def test_the_window_moves_with_each_request(ticks):
    windows = LocalWindows()
    for _ in range(4):
        assert windows.hit(2, "failed-key:198.51.100.7") is None
        ticks[0] += 30.0  # two a minute, evenly spread: always allowed


def test_identities_idle_for_a_window_are_forgotten(ticks):
    windows = LocalWindows()
    for n in range(100):
        windows.hit(5, f"failed-key:198.51.100.{n}")
    ticks[0] += 61.0
    windows.hit(5, "site:1")
    assert list(windows._times) == ["site:1"]
