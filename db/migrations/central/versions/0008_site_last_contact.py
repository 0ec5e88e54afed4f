"""sites.last_contact_at: the last request of any kind from the site's edge (upload, heartbeat, config)

Revision ID: 0008_site_last_contact
Revises: 0007_tariffs
"""

import sqlalchemy as sa
from alembic import op

import db.types

revision = "0008_site_last_contact"
down_revision = "0007_tariffs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("sites") as batch:
        batch.add_column(sa.Column("last_contact_at", db.types.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE sites SET last_contact_at = last_heartbeat_at")


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("sites") as batch:
        batch.drop_column("last_contact_at")
