"""Property tests: random register histories, uploaded in shuffled batches, give the reference rollups."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from db.migrate import upgrade
from tests.support.energy import (
    Db,
    assert_matches,
    ingest,
    local_date,
    make_point,
    reference,
    rollups,
    utc_hour,
)

START = datetime(2026, 3, 28, 22, 0, tzinfo=UTC)  # the night Europe/Berlin springs forward
MAX_GAP = timedelta(seconds=180)  # 3 × the default 60 s collection interval
ROLLOVER = 10_000.0

steps = st.tuples(
    st.sampled_from([30, 60, 60, 60, 120, 240, 3600, 7200]),  # seconds to the next reading
    st.one_of(
        st.floats(0, 5, allow_nan=False),  # normal consumption
        st.just(-1e9),  # counter reset (to a small value)
        st.floats(-0.01, 0, allow_nan=False),  # jitter
    ),
    st.sampled_from([0, 0, 0, 0, 1, 2]),
)


def history(draw_steps, start_value: float, rollover: float | None) -> list[tuple]:
    """Readings (ts, value, quality) from drawn steps; rollover wraps the register at the limit."""
    ts, value, rows = START, start_value, []
    for seconds, change, quality in draw_steps:
        ts += timedelta(seconds=seconds)
        if change == -1e9:
            value = random.Random(seconds).uniform(0, 1)
        else:
            value = max(value + change, 0.0)
            if rollover is not None and value >= rollover:
                value -= rollover
        rows.append((ts, round(value, 6), quality))
    return rows


def batches(rows: list[tuple], seed: int) -> list[list[tuple]]:
    """The readings cut into batches that arrive in random order (a late backlog, a replay)."""
    rng = random.Random(seed)
    shuffled = rows[:]
    rng.shuffle(shuffled)
    cuts = sorted(rng.sample(range(1, len(shuffled)), min(4, len(shuffled) - 1))) if len(shuffled) > 1 else []
    parts = [shuffled[a:b] for a, b in zip([0, *cuts], [*cuts, len(shuffled)], strict=False)]
    return parts + [parts[0]]  # a replayed batch changes nothing


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def db(request, tmp_path_factory):
    """A migrated central database of each dialect for the whole module."""
    if request.param == "postgresql":
        url = request.getfixturevalue("central_pg_url")
    else:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('energy')}/central.db"
        upgrade("central", url)
    database = Db(url)
    yield database
    database.close()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    draw_steps=st.lists(steps, min_size=1, max_size=60),
    start_value=st.floats(0, ROLLOVER - 1, allow_nan=False),
    seed=st.integers(0, 10_000),
    zone=st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC"]),
    wraps=st.booleans(),
)
def test_rollups_equal_reference(db, draw_steps, start_value, seed, zone, wraps):
    rollover = ROLLOVER if wraps else None
    rows = history(draw_steps, start_value, rollover)
    point = db.run(make_point(db, timezone=zone, rollover=rollover))
    for batch in batches(rows, seed):
        db.run(ingest(db, point, batch))
    hourly, daily = db.run(rollups(db, point))
    rules = {"rollover": rollover, "max_gap": MAX_GAP}
    assert_matches(hourly, reference(rows, utc_hour, **rules))
    assert_matches(daily, reference(rows, local_date(zone), **rules))


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(draw_steps=st.lists(steps, min_size=2, max_size=40), seed=st.integers(0, 10_000))
def test_instantaneous_points_have_no_consumption(db, draw_steps, seed):
    rows = history(draw_steps, 50.0, None)
    point = db.run(make_point(db, cumulative=False, unit="kilowatts", name="power_kw"))
    for batch in batches(rows, seed):
        db.run(ingest(db, point, batch))
    hourly, daily = db.run(rollups(db, point))
    assert_matches(hourly, reference(rows, utc_hour, cumulative=False, max_gap=MAX_GAP))
    assert_matches(daily, reference(rows, local_date("UTC"), cumulative=False, max_gap=MAX_GAP))
