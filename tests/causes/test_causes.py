"""One text per cause (causes/): each is written once, and the API, the edge and both dashboards use it."""

import re
from pathlib import Path

import pytest

from causes import LOGIN_CAUSES, TEXTS, Cause, cause_of, text
from ui_client.api import refused as central_refused
from ui_client.errors import Forbidden, NotAuthenticated
from ui_edge import errors as edge_errors
from ui_edge.api import refused as edge_refused

ROOT = Path(__file__).resolve().parents[2]
USERS = ("api", "edge_agent", "ui_client", "ui_edge", "ui_common")


def test_every_cause_has_one_text_recognised_as_that_cause():
    assert set(TEXTS) == set(Cause)
    for cause in Cause:
        details = dict.fromkeys(re.findall(r"{(\w+)", TEXTS[cause]), "m1")
        assert cause_of(text(cause, **details)) is cause, cause
    assert cause_of("name taken") is None


def test_no_text_is_written_again_outside_causes():
    """The fixed words of every text appear as a string literal only in causes/ (a copy would drift)."""
    fixed = {cause: TEXTS[cause].split("{", 1)[0] for cause in Cause}
    copies = []
    for package in USERS:
        for path in (ROOT / package).rglob("*.py"):
            source = path.read_text()
            copies += [
                f"{path.relative_to(ROOT)}: {c}" for c, words in fixed.items() if f'"{words}' in source
            ]
    assert copies == []


@pytest.mark.parametrize("cause", sorted(LOGIN_CAUSES))
def test_both_dashboards_send_the_user_to_log_in(cause):
    assert isinstance(central_refused(text(cause)), NotAuthenticated)
    assert isinstance(edge_refused(text(cause)), edge_errors.NotAuthenticated)


def test_the_central_dashboard_asks_for_an_admin():
    assert isinstance(central_refused(text(Cause.ADMIN_REQUIRED)), Forbidden)
    assert isinstance(central_refused(f"{text(Cause.ADMIN_REQUIRED)} (ann is viewer)"), Forbidden)
