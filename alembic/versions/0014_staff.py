"""staff: roles granted by the operator, the append-only staff audit log (rows go with the
person they are about), published policy versions and per-person dismissals of their notice

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 04:34:33
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import vopix.models.types

revision: str = '0014'
down_revision: str | Sequence[str] | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('policy_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(length=600), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('material', sa.Boolean(), nullable=False),
    sa.Column('published_at', vopix.models.types.UTCDateTime(), nullable=False),
    sa.Column('published_by', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('published_by_user_id', sa.Integer(), nullable=True),
    sa.Column('notice_cursor', sa.Integer(), nullable=False),
    sa.Column('notices_queued', sa.Integer(), nullable=False),
    sa.Column('notices_sent_at', vopix.models.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['published_by_user_id'], ['user.id'], name=op.f('fk_policy_version_published_by_user_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_version')),
    sa.UniqueConstraint('version', name=op.f('uq_policy_version_version'))
    )
    with op.batch_alter_table('policy_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_policy_version_published_at'), ['published_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_policy_version_published_by_user_id'), ['published_by_user_id'], unique=False)

    op.create_table('staff_audit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', vopix.models.types.UTCDateTime(), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=True),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('subject_user_id', sa.Integer(), nullable=True),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.ForeignKeyConstraint(['staff_user_id'], ['user.id'], name=op.f('fk_staff_audit_staff_user_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['subject_user_id'], ['user.id'], name=op.f('fk_staff_audit_subject_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_audit'))
    )
    with op.batch_alter_table('staff_audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_audit_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_staff_audit_staff_user_id'), ['staff_user_id'], unique=False)
        batch_op.create_index('ix_staff_audit_subject_user_id_at', ['subject_user_id', 'at'], unique=False)

    op.create_table('staff_role',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('granted_at', vopix.models.types.UTCDateTime(), nullable=False),
    sa.Column('granted_by', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('revoked_at', vopix.models.types.UTCDateTime(), nullable=True),
    sa.Column('revoked_by', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_staff_role_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_role')),
    sa.UniqueConstraint('user_id', name=op.f('uq_staff_role_user_id'))
    )
    op.create_table('policy_dismissal',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('policy_version_id', sa.Integer(), nullable=False),
    sa.Column('dismissed_at', vopix.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['policy_version_id'], ['policy_version.id'], name=op.f('fk_policy_dismissal_policy_version_id_policy_version'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_policy_dismissal_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'policy_version_id', name=op.f('pk_policy_dismissal'))
    )
    with op.batch_alter_table('policy_dismissal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_policy_dismissal_policy_version_id'), ['policy_version_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('policy_dismissal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_policy_dismissal_policy_version_id'))

    op.drop_table('policy_dismissal')
    op.drop_table('staff_role')
    with op.batch_alter_table('staff_audit', schema=None) as batch_op:
        batch_op.drop_index('ix_staff_audit_subject_user_id_at')
        batch_op.drop_index(batch_op.f('ix_staff_audit_staff_user_id'))
        batch_op.drop_index(batch_op.f('ix_staff_audit_at'))

    op.drop_table('staff_audit')
    with op.batch_alter_table('policy_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_policy_version_published_by_user_id'))
        batch_op.drop_index(batch_op.f('ix_policy_version_published_at'))

    op.drop_table('policy_version')
