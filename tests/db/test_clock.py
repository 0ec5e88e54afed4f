"""The one clock per deployable: settable by environment and by tests, inherited by child processes, used everywhere."""

import ast
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from db.clock import (
    OFFSET_ENV,
    Clock,
    FixedClock,
    clock,
    clock_from_env,
    parse_clock_setting,
    use_clock,
    utcnow,
)
from tests.support.central_server import REPO_ROOT

# Reads of the system clock allowed outside db/clock.py, each with the reason it is not a date.
ALLOWED = {
    ("api/realtime/pubsub.py", "time.time"): "delivery latency between worker processes",
    ("api/http/site_limits.py", "time.time"): "the rate limiter's windows are in system time",
    ("ui_common/clock.py", "datetime.now"): "the dashboards' own clock (they import no db/)",
}
FORBIDDEN = {"datetime.now", "datetime.utcnow", "datetime.today", "date.today", "time.time"}


def test_environment_moves_the_clock_and_children_inherit_the_offset():
    env = {"METERIT_CLOCK_AT": "2028-02-29"}
    moved = clock_from_env(env)
    assert abs(moved.now() - datetime(2028, 2, 29, 12, tzinfo=UTC)) < timedelta(seconds=5)
    assert float(env[OFFSET_ENV]) == pytest.approx(moved.offset.total_seconds())
    again = clock_from_env(env)  # what a child process started later reads: the same offset, not a new start
    assert again.offset == moved.offset
    assert clock_from_env({}).offset == timedelta(0)


def test_a_child_process_agrees_with_its_parent():
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "METERIT_CLOCK_AT": "2027-12-31T23:59:00+00:00"}
    env.pop(OFFSET_ENV, None)
    parent = clock_from_env(env)
    code = "from db.clock import clock; print(clock().now().isoformat())"
    printed = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    child_now = datetime.fromisoformat(printed.stdout.strip())
    assert abs(child_now - parent.now()) < timedelta(seconds=5)


def test_settings_are_parsed_or_refused_clearly():
    assert parse_clock_setting("2027-03-28T01:30:00+01:00") == datetime(2027, 3, 28, 0, 30, tzinfo=UTC)
    assert parse_clock_setting("2027-03-28T01:30:00") == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="METERIT_CLOCK_AT='soon' is not an ISO date or datetime"):
        parse_clock_setting("soon")


def test_use_clock_installs_and_restores():
    before = clock()
    moment = datetime(2031, 1, 1, tzinfo=UTC)
    with use_clock(FixedClock(moment)) as fixed:
        assert utcnow() == moment and clock().today() == moment.date()
        fixed.advance(timedelta(hours=-1))  # an NTP step back
        assert utcnow() == moment - timedelta(hours=1)
        assert clock().timestamp() == (moment - timedelta(hours=1)).timestamp()
    assert clock() is before
    shifted = Clock.starting_at(moment)
    assert abs(shifted.now() - moment) < timedelta(seconds=5)


def _system_clock_reads(path: Path) -> set[str]:
    """Dotted names like `datetime.now` called in a module."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name) and f"{owner.id}.{node.func.attr}" in FORBIDDEN:
                found.add(f"{owner.id}.{node.func.attr}")
    return found


def test_no_deployable_reads_the_system_clock_but_through_its_clock():
    offenders = []
    for package in ("api", "db", "edge_agent", "meterit", "ui_client", "ui_edge", "ui_common"):
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            rel = path.relative_to(REPO_ROOT).as_posix()
            if rel == "db/clock.py":
                continue
            for call in _system_clock_reads(path):
                if (rel, call) not in ALLOWED:
                    offenders.append(f"{rel}: {call}()")
    assert offenders == [], "read the time through db/clock.py (or ui_common/clock.py) instead"
