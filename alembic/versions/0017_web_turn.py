"""web turns: the lease of a web reply while it streams, so a tab that reconnects to another
instance can tell a running turn from one whose process died (issue 15, fault 2)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 08:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import vopix.models.types

revision: str = '0017'
down_revision: str | Sequence[str] | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('web_turn',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('lease_until', vopix.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'],
                            name=op.f('fk_web_turn_conversation_id_conversation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_web_turn_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_web_turn'))
    )
    with op.batch_alter_table('web_turn', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_turn_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_web_turn_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('web_turn', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_turn_user_id'))
        batch_op.drop_index(batch_op.f('ix_web_turn_conversation_id'))
    op.drop_table('web_turn')
