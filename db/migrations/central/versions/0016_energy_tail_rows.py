"""energy_summary_state.tail: the point's unfolded rows as its last fold read them, so the next fold of an
on-time upload need not read them again

Revision ID: 0016_energy_tail_rows
Revises: 0015_rollup_carried_rows
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_energy_tail_rows"
down_revision = "0015_rollup_carried_rows"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision: states folded before it hold no rows (their next fold reads them, as before)."""
    with op.batch_alter_table("energy_summary_state") as batch:
        batch.add_column(sa.Column("tail", sa.LargeBinary(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        # times and values compress little: pglz would spend CPU on every fold of the point
        op.execute("ALTER TABLE energy_summary_state ALTER COLUMN tail SET STORAGE EXTERNAL")


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("energy_summary_state") as batch:
        batch.drop_column("tail")
