"""JSON-lines log files (db/logs.py): one object per line, rotation by size and by age, several writers."""

import json
import logging
from datetime import UTC, datetime, timedelta

from db.clock import FixedClock, use_clock
from db.logs import JsonLineFormatter, SizeAndAgeRotatingHandler, first_line_time

START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def record(msg: str, **extra) -> logging.LogRecord:
    """A record of logger `t` at INFO with extra fields."""
    made = logging.LogRecord("t", logging.INFO, __file__, 1, msg, (), None)
    made.__dict__.update(extra)
    return made


def lines(path) -> list[dict]:
    """The objects of a JSON-lines file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_line_carries_the_correlation_fields_it_was_given():
    with use_clock(FixedClock(START)):
        line = json.loads(JsonLineFormatter().format(record("upload %s", batch_id="b-7", status=200)))
    assert line == {
        "ts": "2026-03-02T10:00:00.000+00:00",
        "level": "INFO",
        "logger": "t",
        "msg": "upload %s",
        "batch_id": "b-7",
        "status": 200,
    }


def test_rotation_by_size_keeps_the_backups(tmp_path):
    path = tmp_path / "a.log"
    handler = SizeAndAgeRotatingHandler(path, max_bytes=400, backups=2, max_age_seconds=3600)
    try:
        for i in range(40):
            handler.handle(record(f"line {i:03d}"))
    finally:
        handler.close()
    assert sorted(p.name for p in tmp_path.glob("a.log*") if not p.name.endswith(".lock")) == [
        "a.log",
        "a.log.1",
        "a.log.2",
    ]
    assert lines(path)[-1]["msg"] == "line 039"
    assert all(p.stat().st_size < 400 + 200 for p in tmp_path.glob("a.log.*") if p.suffix != ".lock")


def test_rotation_by_age_counts_from_the_first_line_even_after_a_restart(tmp_path):
    path = tmp_path / "b.log"
    clock = FixedClock(START)
    with use_clock(clock):
        first = SizeAndAgeRotatingHandler(path, max_bytes=10**6, backups=3, max_age_seconds=86400)
        first.handle(record("day one"))
        first.close()
        clock.advance(timedelta(hours=23))
        restarted = SizeAndAgeRotatingHandler(path, max_bytes=10**6, backups=3, max_age_seconds=86400)
        restarted.handle(record("still day one"))
        assert not (tmp_path / "b.log.1").exists()
        clock.advance(timedelta(hours=2))
        restarted.handle(record("day two"))
        restarted.close()
    assert [line["msg"] for line in lines(tmp_path / "b.log.1")] == ["day one", "still day one"]
    assert [line["msg"] for line in lines(path)] == ["day two"]
    assert first_line_time(path) == START + timedelta(hours=25)


def test_two_writers_rotate_once_and_both_go_on_in_the_new_file(tmp_path):
    path = tmp_path / "c.log"
    one = SizeAndAgeRotatingHandler(path, max_bytes=300, backups=5, max_age_seconds=3600)
    two = SizeAndAgeRotatingHandler(path, max_bytes=300, backups=5, max_age_seconds=3600)
    try:
        for i in range(6):
            (one if i % 2 == 0 else two).handle(record(f"line {i}"))
        one.handle(record("after"))
        two.handle(record("after too"))
    finally:
        one.close()
        two.close()
    everything = [
        line["msg"] for p in sorted(tmp_path.glob("c.log*")) if p.suffix != ".lock" for line in lines(p)
    ]
    assert sorted(everything) == sorted([f"line {i}" for i in range(6)] + ["after", "after too"])
    assert [line["msg"] for line in lines(path)][-2:] == ["after", "after too"]
