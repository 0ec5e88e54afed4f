"""A window with its usable neighbours (db/central/storage/lookups.py) equals the plain definition, whether the
usable reading before it is within the near search or further back."""

from datetime import timedelta

import pytest

from db.central.ingest.batch import insert_rows
from db.central.storage.lookups import usable_before, window_rows
from db.clock import utcnow
from db.engine import asyncpg_connection, session_scope
from tests.support.energy import make_point

DAY = timedelta(days=1)


def reference(rows: list[tuple], lo, hi) -> list[tuple]:
    """The usable reading before lo, the readings in [lo, hi), the first usable one at hi or later."""
    before = [r for r in rows if r[0] < lo and r[2] < 2][-1:]
    after = [r for r in rows if r[0] >= hi and r[2] < 2][:1]
    return before + [r for r in rows if lo <= r[0] < hi] + after


@pytest.mark.parametrize("back_days", [0.5, 2, 30, 32, 45, 400])
def test_window_rows_equal_the_plain_definition(own_db, back_days):
    point = own_db.run(make_point(own_db))
    lo = utcnow().replace(minute=0, second=0, microsecond=0) - 3 * DAY
    hi = lo + DAY
    rows = sorted(
        [
            (lo - back_days * DAY, 1.0, 0),  # the usable reading before: near or far back
            (lo - DAY, 2.0, 2),  # a bad one in between (when back_days > 1)
            (lo + timedelta(hours=1), 3.0, 0),
            (lo + timedelta(hours=2), 4.0, 1),
            (hi + timedelta(hours=1), 5.0, 2),
            (hi + timedelta(hours=2), 6.0, 0),
        ]
    )

    async def work():
        async with session_scope(own_db.sessions) as session:
            await insert_rows(session, [(point, ts, value, quality) for ts, value, quality in rows])
        async with session_scope(own_db.sessions) as session:
            conn = await asyncpg_connection(session)
            window = await conn.fetch(window_rows("$1", "$2", "$3"), point, lo, hi)
            before = [
                await conn.fetchval(f"SELECT {usable_before('$1', '$2')}", point, at) for at in (lo, hi)
            ]
            return [tuple(r) for r in window], before

    window, before = own_db.run(work())
    assert window == reference(rows, lo, hi)
    assert before == [lo - back_days * DAY, lo + timedelta(hours=2)]


def test_no_usable_reading_before_is_none(own_db):
    point = own_db.run(make_point(own_db))
    at = utcnow().replace(microsecond=0) - DAY

    async def work():
        async with session_scope(own_db.sessions) as session:
            await insert_rows(session, [(point, at - 40 * DAY, 1.0, 2), (point, at + DAY / 2, 2.0, 0)])
        async with session_scope(own_db.sessions) as session:
            conn = await asyncpg_connection(session)
            return await conn.fetchval(f"SELECT {usable_before('$1', '$2')}", point, at)

    assert own_db.run(work()) is None
