"""hourly and daily rollups of readings

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import db.types

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def _stat_columns() -> list[sa.Column]:
    return [
        sa.Column('point_id', BIGID, nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('good_count', sa.Integer(), nullable=False),
        sa.Column('min_value', sa.Double(), nullable=True),
        sa.Column('max_value', sa.Double(), nullable=True),
        sa.Column('sum_value', sa.Double(), nullable=False),
        sa.Column('first_ts', db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('first_value', sa.Double(), nullable=True),
        sa.Column('last_ts', db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_value', sa.Double(), nullable=True),
        sa.Column('consumption', sa.Double(), nullable=True),
        sa.Column('reset_count', sa.Integer(), nullable=False),
        sa.Column('gap_count', sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        'rollup_hourly',
        *_stat_columns(),
        sa.Column('bucket', db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('point_id', 'bucket'),
    )
    op.create_table(
        'rollup_daily',
        *_stat_columns(),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('bucket', db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('bucket_end', db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('point_id', 'day'),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table('rollup_daily')
    op.drop_table('rollup_hourly')
