"""A point's newest reading (db/central/meters.py latest_values) on PostgreSQL's monthly partitions."""

from datetime import timedelta

from db.central.ingest.batch import insert_rows
from db.central.meters import LATEST_NEAR, latest_values
from db.clock import utcnow
from db.engine import session_scope
from tests.support.energy import make_point, make_site


def test_latest_values_finds_recent_and_old_newest_readings(own_db):
    # searched in the last LATEST_NEAR first, then further back: either way the newest reading
    site_id = own_db.run(make_site(own_db))
    recent, old, silent = (own_db.run(make_point(own_db, site_id=site_id, name=n)) for n in ("a", "b", "c"))
    now = utcnow().replace(microsecond=0)
    far = now - LATEST_NEAR - timedelta(days=30)
    rows = [
        (recent, far, 1.0, 0),
        (recent, now - timedelta(hours=2), 2.0, 0),
        (recent, now - timedelta(hours=1), 3.0, 2),  # a bad reading is still the newest reading
        (old, far - timedelta(days=1), 4.0, 0),
        (old, far, 5.0, 0),
    ]

    async def work():
        async with session_scope(own_db.sessions) as session:
            await insert_rows(session, rows)
        async with session_scope(own_db.sessions) as session:
            return await latest_values(session, [recent, old, silent])

    assert own_db.run(work()) == {recent: (now - timedelta(hours=1), 3.0), old: (far, 5.0)}
