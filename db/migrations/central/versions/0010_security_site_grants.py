"""site_grants (per-site roles of users), login_failures (login throttling shared by every API worker) and a
rotated site key's overlap (the old key until a set time)

Existing non-admin users are granted every existing site as viewers, so an upgrade locks nobody out;
sites created afterwards are visible only to admins and the users granted them.

Revision ID: 0010_security_site_grants
Revises: 0009_user_token_version
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_security_site_grants"
down_revision = "0009_user_token_version"
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "site_grants",
        sa.Column("user_id", BIGID, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("site_id", BIGID, sa.ForeignKey("sites.id", ondelete="CASCADE"), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "site_id"),
    )
    op.create_index("ix_site_grants_site_id", "site_grants", ["site_id"])
    op.execute(
        "INSERT INTO site_grants (user_id, site_id, role, created_at) "
        "SELECT users.id, sites.id, 'viewer', CURRENT_TIMESTAMP FROM users CROSS JOIN sites "
        "WHERE users.role <> 'admin'"
    )
    op.create_table(
        "login_failures",
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("ident", sa.String(length=320), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure", sa.Float(), nullable=False),
        sa.Column("next_allowed", sa.Float(), nullable=False),
        sa.Column("locked_until", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "ident"),
    )
    with op.batch_alter_table("sites") as batch:
        batch.add_column(sa.Column("old_key_prefix", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("old_key_hash", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("old_key_until", sa.DateTime(timezone=True), nullable=True))
        batch.create_unique_constraint("uq_sites_old_key_prefix", ["old_key_prefix"])


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("sites") as batch:
        batch.drop_constraint("uq_sites_old_key_prefix", type_="unique")
        batch.drop_column("old_key_until")
        batch.drop_column("old_key_hash")
        batch.drop_column("old_key_prefix")
    op.drop_table("login_failures")
    op.drop_index("ix_site_grants_site_id", "site_grants")
    op.drop_table("site_grants")
