"""energy_summary_state.newest: the newest queued reading (any quality) the point's folds have claimed

Revision ID: 0018_summary_newest
Revises: 0017_fold_row_fillfactor
"""

import sqlalchemy as sa
from alembic import op

import db.types

revision = "0018_summary_newest"
down_revision = "0017_fold_row_fillfactor"
branch_labels = None
depends_on = None

# The fold takes an upload's carried rows in place of the stored ones only when they all follow what it has
# folded (db/central/rollups/queue.py); the hourly rollups' last reading told that until the fold stopped
# writing rollups. NULL (states written before this revision) reads the stored rows: once, then it is set.


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("energy_summary_state") as batch:
        batch.add_column(sa.Column("newest", db.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("energy_summary_state") as batch:
        batch.drop_column("newest")
