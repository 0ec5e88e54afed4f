"""maintenance_windows (once, daily or weekly per site); alerts.acknowledged_note and alerts.resolved_by

Revision ID: 0011_alertsui_maintenance
Revises: 0010_security_site_grants
"""

import sqlalchemy as sa
from alembic import op

import db.types

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "0011_alertsui_maintenance"
down_revision = "0010_security_site_grants"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "maintenance_windows",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("site_id", BIGID, sa.ForeignKey("sites.id", ondelete="CASCADE"), nullable=False),
        sa.Column("starts_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("repeat", sa.String(16), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("created_by", sa.String(254), nullable=True),
        sa.Column("created_at", db.types.UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_maintenance_windows_site_id", "maintenance_windows", ["site_id"])
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("acknowledged_note", sa.String(1000), nullable=True))
        batch.add_column(sa.Column("resolved_by", sa.String(254), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("resolved_by")
        batch.drop_column("acknowledged_note")
    op.drop_index("ix_maintenance_windows_site_id", table_name="maintenance_windows")
    op.drop_table("maintenance_windows")
