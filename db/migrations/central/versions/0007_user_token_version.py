"""users.token_version: a per-user counter carried in each token; bumping it ends every session of the user

Revision ID: 0007_user_token_version
Revises: 0006_inventory_changes
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_user_token_version"
down_revision = "0006_inventory_changes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("token_version", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("users") as batch:
        batch.drop_column("token_version")
