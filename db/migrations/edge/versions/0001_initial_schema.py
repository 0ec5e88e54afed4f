"""initial schema

Revision ID: 0001
Revises: 
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import db.types

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('agent_state',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('updated_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('dead_letters',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('meter_external_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('data_point', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('ts', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('value', sa.Double(), nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('quality', sa.SmallInteger(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('dead_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('handled', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('meters',
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('bacnet_device_id', sa.Integer(), nullable=True),
    sa.Column('bacnet_address', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('config', sa.JSON(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('reachable', sa.Boolean(), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('last_error_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_reading_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('external_id')
    )
    op.create_table('outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('meter_external_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('data_point', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('ts', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('value', sa.Double(), nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('quality', sa.SmallInteger(), nullable=False),
    sa.Column('retry_count', sa.Integer(), nullable=False),
    sa.Column('queued_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('meter_external_id', 'data_point', 'ts', name='uq_outbox_reading')
    )
    op.create_table('recent_readings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('meter_external_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('data_point', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('ts', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('value', sa.Double(), nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('quality', sa.SmallInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('recent_readings', schema=None) as batch_op:
        batch_op.create_index('ix_recent_meter_point_ts', ['meter_external_id', 'data_point', 'ts'], unique=True)

    op.create_table('sync_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('started_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('batch_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('batch_size', sa.Integer(), nullable=False),
    sa.Column('new', sa.Integer(), nullable=False),
    sa.Column('duplicates', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.Column('success', sa.Boolean(), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('error_message', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sync_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_log_started_at'), ['started_at'], unique=False)



def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('sync_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_log_started_at'))

    op.drop_table('sync_log')
    with op.batch_alter_table('recent_readings', schema=None) as batch_op:
        batch_op.drop_index('ix_recent_meter_point_ts')

    op.drop_table('recent_readings')
    op.drop_table('outbox')
    op.drop_table('meters')
    op.drop_table('dead_letters')
    op.drop_table('agent_state')
