"""rollup_dirty.carried: an upload's stored rows of the queue row's part, so the fold need not read them back

Revision ID: 0015_rollup_carried_rows
Revises: 0014_rollup_parts
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_rollup_carried_rows"
down_revision = "0014_rollup_parts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision: rows queued before it carry nothing (their folds read the rows back, as before)."""
    with op.batch_alter_table("rollup_dirty") as batch:
        batch.add_column(sa.Column("carried", sa.LargeBinary(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        # times and values compress little: pglz would spend CPU on every upload for a row deleted seconds later
        op.execute("ALTER TABLE rollup_dirty ALTER COLUMN carried SET STORAGE EXTERNAL")


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("rollup_dirty") as batch:
        batch.drop_column("carried")
