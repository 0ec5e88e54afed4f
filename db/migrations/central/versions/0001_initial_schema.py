"""initial schema

Revision ID: 0001
Revises: 
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import db.types
from db.central.storage.partitions import create_partitioned_readings

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    if op.get_bind().dialect.name == "postgresql":
        create_partitioned_readings(op.get_bind())
    else:
        op.create_table('readings',
        sa.Column('point_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('ts', db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('value', sa.Double(), nullable=False),
        sa.Column('quality', sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint('point_id', 'ts')
        )
    op.create_table('sites',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('key_prefix', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('key_hash', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('maintenance', sa.Boolean(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('last_heartbeat_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('health', sa.JSON(), nullable=False),
    sa.Column('collection_interval_seconds', sa.Float(), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key_prefix'),
    sa.UniqueConstraint('name')
    )
    op.create_table('upload_batches',
    sa.Column('site_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('batch_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('received_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reading_count', sa.Integer(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('site_id', 'batch_id')
    )
    with op.batch_alter_table('upload_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_upload_batches_received_at'), ['received_at'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email')
    )
    op.create_table('alert_rules',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('site_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('threshold', sa.Float(), nullable=False),
    sa.Column('severity', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('pending_seconds', sa.Float(), nullable=False),
    sa.Column('recipients', sa.JSON(), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('meters',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('site_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('bacnet_device_id', sa.Integer(), nullable=True),
    sa.Column('bacnet_address', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('discovered', sa.Boolean(), nullable=False),
    sa.Column('reachable', sa.Boolean(), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('last_seen_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('config', sa.JSON(), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('site_id', 'external_id')
    )
    op.create_table('alerts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('rule_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('site_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('meter_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('severity', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('message', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('opened_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
    sa.ForeignKeyConstraint(['rule_id'], ['alert_rules.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index('ix_alerts_open', ['resolved_at', 'opened_at'], unique=False)

    op.create_table('data_points',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('meter_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('object_type', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('instance', sa.Integer(), nullable=False),
    sa.Column('property', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('cumulative', sa.Boolean(), nullable=False),
    sa.Column('cov', sa.Boolean(), nullable=False),
    sa.Column('discovered', sa.Boolean(), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['meter_id'], ['meters.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('meter_id', 'name')
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table('data_points')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_alerts_open')

    op.drop_table('alerts')
    op.drop_table('meters')
    op.drop_table('alert_rules')
    op.drop_table('users')
    with op.batch_alter_table('upload_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_upload_batches_received_at'))

    op.drop_table('upload_batches')
    op.drop_table('sites')
    op.drop_table('readings')
