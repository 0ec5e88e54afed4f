"""rollup_dirty: ranges awaiting the background rollup worker

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        'rollup_dirty',
        sa.Column('id', BIGID, primary_key=True, autoincrement=True),
        sa.Column('spans', sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table('rollup_dirty')
