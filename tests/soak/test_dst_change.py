"""The soak's Berlin edge is placed just before the latest daylight-saving change, whatever day the soak runs on."""

from datetime import UTC, datetime

import pytest

from meterit.soak.site import last_dst_change

# Inputs to a pure function (it reads no clock when given `before`): dates a year's window holds 2 or 3 changes of.
CASES = [
    (
        "2027-04-30T23:50:00",
        "2027-03-28T01:00:00",
    ),  # summer time, after spring: the window reaches back past two
    ("2027-07-01T00:00:00", "2027-03-28T01:00:00"),
    ("2026-12-06T04:00:00", "2026-10-25T01:00:00"),
    ("2027-03-28T00:30:00", "2026-10-25T01:00:00"),  # half an hour before the spring change
    ("2027-03-28T01:00:01", "2027-03-28T01:00:00"),
]


@pytest.mark.parametrize(("before", "change"), CASES)
def test_the_latest_change_before_a_moment(before, change):
    at = datetime.fromisoformat(before).replace(tzinfo=UTC)
    assert last_dst_change(before=at) == datetime.fromisoformat(change).replace(tzinfo=UTC)
