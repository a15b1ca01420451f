"""account standing: a suspended account (with the staff's reason) and one being deleted (the
request and the end of its grace period, read by the purge)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 04:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import vopix.models.types

revision: str = '0013'
down_revision: str | Sequence[str] | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suspended_at', vopix.models.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('suspended_reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))
        batch_op.add_column(sa.Column('deletion_requested_at', vopix.models.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('purge_after', vopix.models.types.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_user_purge_after'), ['purge_after'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_purge_after'))
        batch_op.drop_column('purge_after')
        batch_op.drop_column('deletion_requested_at')
        batch_op.drop_column('suspended_reason')
        batch_op.drop_column('suspended_at')
