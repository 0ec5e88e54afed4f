"""The soak reads its edges' stdout logs on its own clock: a dated run's refusals must meet its served values."""

from datetime import UTC, datetime, timedelta

from db.clock import Clock, use_clock
from meterit.soak.truth import log_lines


def test_log_stamps_move_to_the_soaks_clock(tmp_path):
    log = tmp_path / "edge-a.log"
    log.write_text(
        "2026-12-06 08:17:33,491 ERROR db.edge.outbox: OUTBOX FULL: policy stop_collecting refused 198 new readings\n"
        "2026-12-06 08:17:34,000 INFO something else\n"
    )
    system = datetime(
        2026, 12, 6, 8, 17, 33, 491000, tzinfo=UTC
    )  # the line's own stamp: an input, no clock read
    with use_clock(Clock()):  # a run on today's date: system time as it is
        assert [at for at, _ in log_lines(log, "stop_collecting refused")] == [system]
    with use_clock(Clock(timedelta(days=112))):  # a run placed 112 days ahead (METERIT_CLOCK_AT)
        assert [at for at, _ in log_lines(log, "stop_collecting refused")] == [system + timedelta(days=112)]
