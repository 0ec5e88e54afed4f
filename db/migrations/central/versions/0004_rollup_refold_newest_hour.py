"""rollup_dirty: refold every point's newest rollup hour before any queued upload

Earlier rebuilds could count the delta of a reading on the hour after a point's newest hourly row
without counting the reading; incremental folding (db/central/rollups/append.py) must not meet such a row. One
queued range per point at its last folded reading, ordered before every queued upload (negative ids),
rebuilds that hour under the new rules first. Data only; PostgreSQL only (SQLite always rebuilds).

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

POINTS_PER_ROW = 1000


def upgrade() -> None:
    """Apply this revision."""
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(f"""
        INSERT INTO rollup_dirty (id, spans)
        SELECT -1 - n / {POINTS_PER_ROW}, json_agg(json_build_array(us, us, json_build_array(point_id)))
        FROM (
          SELECT point_id, (extract(epoch FROM last_ts) * 1000000)::bigint AS us,
            row_number() OVER (ORDER BY point_id) - 1 AS n
          FROM (SELECT DISTINCT ON (point_id) point_id, last_ts FROM rollup_hourly
                WHERE count > 0 ORDER BY point_id, bucket DESC) newest
        ) x
        GROUP BY n / {POINTS_PER_ROW}
    """)


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DELETE FROM rollup_dirty WHERE id < 0')
