"""The staleness rule both dashboards show (db/staleness.py): past 3 × the interval, never before 30 s."""

from datetime import timedelta

from db.clock import utcnow
from db.staleness import age_seconds, is_stale, stale_after


def test_stale_after_three_intervals_with_a_floor():
    assert stale_after(60) == 180 and stale_after(5) == 30 and stale_after(None) == 180


def test_age_and_staleness_of_a_timestamp():
    now = utcnow()
    assert age_seconds(now - timedelta(seconds=90), now) == 90 and age_seconds(None, now) is None
    assert age_seconds(now + timedelta(seconds=5), now) == 0  # a clock a little ahead is not "in the future"
    assert not is_stale(now - timedelta(seconds=170), 60, now)
    assert is_stale(now - timedelta(seconds=190), 60, now)
    assert is_stale(None, 60, now)  # never heard from
