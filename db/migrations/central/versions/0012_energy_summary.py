"""energy_quarters, energy_days, energy_summary_state: the stored 15-minute energy summary

Revision ID: 0012_energy_summary
Revises: 0011_alertsui_maintenance
"""

import sqlalchemy as sa
from alembic import op

import db.types

revision = "0012_energy_summary"
down_revision = "0011_alertsui_maintenance"
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = db.types.UTCDateTime(timezone=True)


def _part_columns() -> list[sa.Column]:
    return [
        sa.Column("point_id", BIGID, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("flagged", sa.Integer(), nullable=False),
        sa.Column("usable", sa.Integer(), nullable=False),
        sa.Column("vsum", sa.Double(), nullable=False),
        sa.Column("vmin", sa.Double()),
        sa.Column("vmax", sa.Double()),
        sa.Column("first_value", sa.Double()),
        sa.Column("last_value", sa.Double()),
        sa.Column("consumption", sa.Double()),
        sa.Column("span_seconds", sa.Double(), nullable=False),
        sa.Column("longest", sa.Double(), nullable=False),
    ]


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "energy_quarters",
        *_part_columns(),
        sa.Column("q", TS, nullable=False),
        sa.Column("whole", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("point_id", "q"),
    )
    op.create_table(
        "energy_days",
        *_part_columns(),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("bucket", TS, nullable=False),
        sa.Column("bucket_end", TS, nullable=False),
        sa.Column("peak", sa.Double()),
        sa.Column("peak_at", TS),
        sa.Column("hours", sa.JSON()),
        sa.PrimaryKeyConstraint("point_id", "day"),
    )
    op.create_table(
        "energy_summary_state",
        sa.Column("point_id", BIGID, primary_key=True),
        sa.Column("folded_from", TS, nullable=False),
        sa.Column("tail_start", TS, nullable=False),
        sa.Column("last_usable", TS),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("energy_summary_state")
    op.drop_table("energy_days")
    op.drop_table("energy_quarters")
