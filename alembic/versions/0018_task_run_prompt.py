"""task runs: the prompt of an agent task once stored, so a retry after a crash answers it
instead of storing and counting it again (issue 15, once across instances)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 15:30:32
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: str | Sequence[str] | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('task_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prompt_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_task_run_prompt_id'), ['prompt_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_task_run_prompt_id_message'), 'message',
                                    ['prompt_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('task_run', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_task_run_prompt_id_message'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_task_run_prompt_id'))
        batch_op.drop_column('prompt_id')
