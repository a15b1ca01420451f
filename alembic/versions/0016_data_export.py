"""data exports: the queue of a person's export jobs (lease, progress) and the ZIP they made,
with at most one queued or running export per person

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 04:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import vopix.models.types

revision: str = '0016'
down_revision: str | Sequence[str] | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = sa.text("status IN ('queued', 'running')")


def upgrade() -> None:
    op.create_table('data_export',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('parts_done', sa.Integer(), nullable=False),
    sa.Column('parts_total', sa.Integer(), nullable=False),
    sa.Column('bytes_written', sa.BigInteger(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('worker', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('claimed_at', vopix.models.types.UTCDateTime(), nullable=True),
    sa.Column('file_name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('created_at', vopix.models.types.UTCDateTime(), nullable=False),
    sa.Column('finished_at', vopix.models.types.UTCDateTime(), nullable=True),
    sa.Column('expires_at', vopix.models.types.UTCDateTime(), nullable=True),
    sa.Column('deleted_at', vopix.models.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_data_export_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_export'))
    )
    with op.batch_alter_table('data_export', schema=None) as batch_op:
        batch_op.create_index('ix_data_export_user_id_created_at', ['user_id', 'created_at'], unique=False)
        batch_op.create_index('ix_data_export_status_claimed_at', ['status', 'claimed_at'], unique=False)
        batch_op.create_index('ix_data_export_status_expires_at', ['status', 'expires_at'], unique=False)
        batch_op.create_index('ix_data_export_user_open', ['user_id'], unique=True,
                              sqlite_where=_OPEN, postgresql_where=_OPEN)


def downgrade() -> None:
    with op.batch_alter_table('data_export', schema=None) as batch_op:
        batch_op.drop_index('ix_data_export_user_open')
        batch_op.drop_index('ix_data_export_status_expires_at')
        batch_op.drop_index('ix_data_export_status_claimed_at')
        batch_op.drop_index('ix_data_export_user_id_created_at')

    op.drop_table('data_export')
