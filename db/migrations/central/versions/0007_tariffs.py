"""site_tariffs: a time-of-use tariff per site (price per kWh by weekday and hour band, demand charge)

Revision ID: 0007_tariffs
Revises: 0006_inventory_changes
"""

import sqlalchemy as sa
from alembic import op

import db.types

revision = '0007_tariffs'
down_revision = '0006_inventory_changes'
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        'site_tariffs',
        sa.Column('site_id', BIGID, sa.ForeignKey('sites.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('default_price_per_kwh', sa.Double(), nullable=False),
        sa.Column('demand_charge_per_kw', sa.Double(), nullable=False),
        sa.Column('bands', sa.JSON(), nullable=False),
        sa.Column('updated_at', db.types.UTCDateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table('site_tariffs')
