"""sites.allowed_networks: the networks a site's key is accepted from (empty: any)

Revision ID: 0005_site_allowed_networks
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_site_allowed_networks"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("sites") as batch:
        batch.add_column(sa.Column("allowed_networks", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("sites") as batch:
        batch.drop_column("allowed_networks")
