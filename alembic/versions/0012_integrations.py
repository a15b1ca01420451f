"""integrations: connected services (tokens stay in the vault), the agent's activity log with
them, and the OAuth state of a connect in progress

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 01:24:38
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import vopix.models.types

revision: str = '0012'
down_revision: str | Sequence[str] | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('integration_activity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('service', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('tool', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=True),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('at', vopix.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], name=op.f('fk_integration_activity_conversation_id_conversation'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_integration_activity_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integration_activity'))
    )
    with op.batch_alter_table('integration_activity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_integration_activity_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index('ix_integration_activity_user_id_at', ['user_id', 'at'], unique=False)

    op.create_table('integration_connection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('service', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('account', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('account_id', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('scopes', sqlmodel.sql.sqltypes.AutoString(length=600), nullable=False),
    sa.Column('access_secret_id', sa.String(length=36), nullable=True),
    sa.Column('refresh_secret_id', sa.String(length=36), nullable=True),
    sa.Column('expires_at', vopix.models.types.UTCDateTime(), nullable=True),
    sa.Column('created_at', vopix.models.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', vopix.models.types.UTCDateTime(), nullable=False),
    sa.Column('last_used_at', vopix.models.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['access_secret_id'], ['secret.id'], name=op.f('fk_integration_connection_access_secret_id_secret'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['refresh_secret_id'], ['secret.id'], name=op.f('fk_integration_connection_refresh_secret_id_secret'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_integration_connection_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integration_connection')),
    sa.UniqueConstraint('user_id', 'service', name='uq_integration_connection_user_id')
    )
    op.create_table('oauth_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('state_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('service', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('code_verifier', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('expires_at', vopix.models.types.UTCDateTime(), nullable=False),
    sa.Column('used_at', vopix.models.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['auth_session.id'], name=op.f('fk_oauth_state_session_id_auth_session'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_oauth_state_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_state'))
    )
    with op.batch_alter_table('oauth_state', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_state_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_state_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_state_state_hash'), ['state_hash'], unique=True)
        batch_op.create_index(batch_op.f('ix_oauth_state_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('oauth_state', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_state_user_id'))
        batch_op.drop_index(batch_op.f('ix_oauth_state_state_hash'))
        batch_op.drop_index(batch_op.f('ix_oauth_state_session_id'))
        batch_op.drop_index(batch_op.f('ix_oauth_state_expires_at'))

    op.drop_table('oauth_state')
    op.drop_table('integration_connection')
    with op.batch_alter_table('integration_activity', schema=None) as batch_op:
        batch_op.drop_index('ix_integration_activity_user_id_at')
        batch_op.drop_index(batch_op.f('ix_integration_activity_conversation_id'))

    op.drop_table('integration_activity')
