"""The steppable clock of fault tests: a running process re-reads its offset file, and only when asked to."""

import time
from datetime import UTC, datetime, timedelta

from db.clock import OFFSET_FILE_ENV, Clock, SteppableClock, clock_from_env


def test_offset_file_steps_a_running_clock_back_and_forward(tmp_path):
    path = tmp_path / "edge.clock"
    path.write_text("0")
    steppable = clock_from_env({OFFSET_FILE_ENV: str(path)})
    assert isinstance(steppable, SteppableClock)
    assert abs(steppable.now() - datetime.now(UTC)) < timedelta(seconds=2)
    path.write_text(repr(-3600.0))
    time.sleep(0.25)  # re-read at most every 0.2 s
    assert abs(steppable.now() - (datetime.now(UTC) - timedelta(hours=1))) < timedelta(seconds=2)
    path.write_text(repr(86400.0))
    time.sleep(0.25)
    assert abs(steppable.now() - (datetime.now(UTC) + timedelta(days=1))) < timedelta(seconds=2)


def test_a_half_written_file_keeps_the_last_offset(tmp_path):
    path = tmp_path / "edge.clock"
    path.write_text("60")
    steppable = SteppableClock(str(path))
    first = steppable.now()
    path.write_text("6O")  # not a number
    time.sleep(0.25)
    assert abs(steppable.now() - first) < timedelta(seconds=2)


def test_without_the_variable_no_file_is_read():
    assert type(clock_from_env({})) is Clock
