"""tasks (issue 13): reminders and scheduled agent tasks, their runs (one per occurrence),
each person's delivery settings, and the plan's active-task limit (free 5, paid more)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 04:38:12
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import vopix.models.types

revision: str = '0015'
down_revision: str | Sequence[str] | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAID_TASKS = {"pro": 50, "team": 200}  # the seeded paid plans; every other plan gets Free's 5


def upgrade() -> None:
    op.create_table('task_settings',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), server_default='web', nullable=False),
    sa.Column('quiet_start', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('quiet_end', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('updated_at', vopix.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_task_settings_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_task_settings'))
    )
    op.create_table('task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('start_local', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('rrule', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('ignore_quiet_hours', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('next_run_at', vopix.models.types.UTCDateTime(), nullable=True),
    sa.Column('occurrence_at', vopix.models.types.UTCDateTime(), nullable=True),
    sa.Column('lease_until', vopix.models.types.UTCDateTime(), nullable=True),
    sa.Column('worker', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=True),
    sa.Column('created_at', vopix.models.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', vopix.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], name=op.f('fk_task_conversation_id_conversation'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_task_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task'))
    )
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index('ix_task_status_next_run_at', ['status', 'next_run_at'], unique=False)
        batch_op.create_index('ix_task_user_id_created_at', ['user_id', 'created_at'], unique=False)

    op.create_table('task_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('occurrence_at', vopix.models.types.UTCDateTime(), nullable=False),
    sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('late_seconds', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('outbound_id', sa.Integer(), nullable=True),
    sa.Column('started_at', vopix.models.types.UTCDateTime(), nullable=False),
    sa.Column('finished_at', vopix.models.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_task_run_message_id_message'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['outbound_id'], ['outbound_message.id'], name=op.f('fk_task_run_outbound_id_outbound_message'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_task_run_task_id_task'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_task_run_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_run')),
    sa.UniqueConstraint('task_id', 'occurrence_at', name='uq_task_run_task_id')
    )
    with op.batch_alter_table('task_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_run_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_run_outbound_id'), ['outbound_id'], unique=False)
        batch_op.create_index('ix_task_run_user_id_started_at', ['user_id', 'started_at'], unique=False)

    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_active_tasks', sa.Integer(), server_default='5', nullable=False))
    for plan_id, limit in PAID_TASKS.items():
        op.execute(f"UPDATE plan SET max_active_tasks = {int(limit)} WHERE id = '{plan_id}'")



def downgrade() -> None:
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.drop_column('max_active_tasks')

    with op.batch_alter_table('task_run', schema=None) as batch_op:
        batch_op.drop_index('ix_task_run_user_id_started_at')
        batch_op.drop_index(batch_op.f('ix_task_run_outbound_id'))
        batch_op.drop_index(batch_op.f('ix_task_run_message_id'))

    op.drop_table('task_run')
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_index('ix_task_user_id_created_at')
        batch_op.drop_index('ix_task_status_next_run_at')
        batch_op.drop_index(batch_op.f('ix_task_conversation_id'))

    op.drop_table('task')
    op.drop_table('task_settings')
