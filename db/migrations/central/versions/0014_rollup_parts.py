"""rollup_dirty.part, .queued_at: queued ranges split by rollup part (parts fold at once), and their age

Revision ID: 0014_rollup_parts
Revises: 0013_energy_report_schedules
"""

import sqlalchemy as sa
from alembic import op

import db.types

revision = "0014_rollup_parts"
down_revision = "0013_energy_report_schedules"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision: rows queued before it are part 0 (they may hold any point; slot locks cover that)."""
    with op.batch_alter_table("rollup_dirty") as batch:
        batch.add_column(sa.Column("part", sa.SmallInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("queued_at", db.types.UTCDateTime(timezone=True), nullable=True))
    op.create_index("ix_rollup_dirty_part_id", "rollup_dirty", ["part", "id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_rollup_dirty_part_id", table_name="rollup_dirty")
    with op.batch_alter_table("rollup_dirty") as batch:
        batch.drop_column("queued_at")
        batch.drop_column("part")
