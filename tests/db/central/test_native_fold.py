"""The fold in C (db/central/_fold.c) and in its Python forms store the same rows, bit for bit, on PostgreSQL.

Both take every path of the worker's fold: points extended in order, late and replayed batches refolded
from raw rows, resets, rollovers, gaps and flagged or bad readings; their quarters, days and states must
be equal in every column (point ids aside).
"""

import random
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from db.central.energy_parts import quarter_floor
from db.central.ingest.batch import insert_rows
from db.central.rollups.queue import flush_rollups, record_dirty
from db.engine import session_scope
from tests.db.energy.test_consumption_rules import history, steps
from tests.support.energy import Db, fold_form, make_point

ROLLOVER = 10_000.0
START = datetime(2026, 3, 28, 20, 7, tzinfo=UTC)  # Berlin springs forward within the drawn days
TABLES = {
    "energy_quarters": "q",
    "energy_days": "day",
    "energy_summary_state": "point_id",
}


async def upload(db: Db, point: int, batch) -> None:
    """Insert one batch and queue its range, as the ingest path does."""
    async with session_scope(db.sessions) as session:
        await insert_rows(session, [(point, s.ts, s.value, s.quality) for s in batch])
        stamps = [s.ts for s in batch]
        await record_dirty(session, 0, {point: (min(stamps), max(stamps))})


async def stored(db: Db, point: int) -> dict[str, list[tuple]]:
    """Every derived row of the point, without its id, in key order; floats as their exact bits (repr)."""
    out = {}
    async with session_scope(db.sessions) as session:
        for table, key in TABLES.items():
            rows = await session.execute(
                text(f"SELECT * FROM {table} WHERE point_id = :p ORDER BY {key}"), {"p": point}
            )
            out[table] = [
                tuple(
                    repr(v) if isinstance(v, float) else v
                    for name, v in row._mapping.items()
                    if name not in ("point_id", "id", "tail")  # tail: tests/db/central/test_energy_tail.py
                )
                for row in rows
            ]
    return out


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    drawn=st.lists(steps, min_size=1, max_size=120),
    value=st.floats(0, ROLLOVER - 1, allow_nan=False),
    seed=st.integers(0, 10_000),
    zone=st.sampled_from(["Europe/Berlin", "Asia/Kolkata", "America/New_York"]),
    cumulative=st.booleans(),
    wraps=st.booleans(),
)
def test_both_forms_store_the_same_rows(own_db, drawn, value, seed, zone, cumulative, wraps):
    rollover = ROLLOVER if wraps else None
    rows = history(drawn, START, value, rollover)
    rng = random.Random(seed)
    cut = rng.randint(0, len(rows))
    batches = [rows[:cut][i::2] for i in range(2)] + [rows[cut:]]  # in order, out of order, then new ones
    batches.append(rows[: max(1, cut // 2)])  # a replay
    results = []
    for form in ("native", "python"):
        point = own_db.run(make_point(own_db, timezone=zone, rollover=rollover, cumulative=cumulative))
        with fold_form(form):
            for batch in filter(None, batches):
                own_db.run(upload(own_db, point, batch))
                own_db.run(flush_rollups(own_db.sessions))
        results.append(own_db.run(stored(own_db, point)))
    native, python = results
    assert native == python
    assert native["energy_summary_state"]
    usable = [row.ts for row in rows if row.quality < 2]
    # quarters before the newest usable reading's are stored (queries read that one and later ones raw)
    if usable and rows[0].ts < quarter_floor(usable[-1]):
        assert native["energy_quarters"]
