"""users.token_version: a per-user counter carried in each token; bumping it ends every session of the user

Revision ID: 0009_user_token_version
Revises: 0008_site_last_contact
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_user_token_version"
down_revision = "0008_site_last_contact"
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
