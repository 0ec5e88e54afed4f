"""inventory_changes: the versioned meter inventory of each site, with its history

Revision ID: 0006_inventory_changes
Revises: 0005_site_allowed_networks
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_inventory_changes"
down_revision = "0005_site_allowed_networks"
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "inventory_changes",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("site_id", BIGID, sa.ForeignKey("sites.id", ondelete="CASCADE"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("base_version", sa.Integer(), nullable=True),
        sa.Column("origin", sa.String(length=32), nullable=False),
        sa.Column("author", sa.String(length=254), nullable=True),
        sa.Column("document", sa.JSON(), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("conflicts", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("site_id", "version"),
    )
    op.create_index("ix_inventory_changes_site", "inventory_changes", ["site_id", "id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_inventory_changes_site", "inventory_changes")
    op.drop_table("inventory_changes")
