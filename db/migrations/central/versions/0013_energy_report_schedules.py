"""report_schedules, report_deliveries: monthly report e-mails and the months already sent

Revision ID: 0013_energy_report_schedules
Revises: 0012_energy_summary
"""

import sqlalchemy as sa
from alembic import op

import db.types

revision = "0013_energy_report_schedules"
down_revision = "0012_energy_summary"
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "report_schedules",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("site_ids", sa.JSON(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "report_deliveries",
        sa.Column(
            "schedule_id", BIGID, sa.ForeignKey("report_schedules.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("sent_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("schedule_id", "month"),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("report_deliveries")
    op.drop_table("report_schedules")
