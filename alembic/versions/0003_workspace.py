"""workspace: entries, content chunks, storage meter, searchable text

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


import vopix.models.types

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('workspace_chunk',
    sa.Column('blob_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', vopix.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('blob_id', 'seq')
    )
    with op.batch_alter_table('workspace_chunk', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workspace_chunk_user_id'), ['user_id'], unique=False)

    op.create_table('workspace_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('path', sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=False),
    sa.Column('path_key', sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('is_text', sa.Boolean(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('blob_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('created_at', vopix.models.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', vopix.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'path_key', name='uq_workspace_entry_user_path')
    )
    with op.batch_alter_table('workspace_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workspace_entry_user_id'), ['user_id'], unique=False)

    op.create_table('workspace_usage',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('bytes_used', sa.BigInteger(), nullable=False),
    sa.Column('files', sa.Integer(), nullable=False),
    sa.Column('updated_at', vopix.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id')
    )
    op.create_table('workspace_text',
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['workspace_entry.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('entry_id')
    )
    with op.batch_alter_table('workspace_text', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workspace_text_user_id'), ['user_id'], unique=False)

    # Full-text search over text files, as for messages: an FTS5 table kept in step by triggers
    # on SQLite, a GIN expression index on PostgreSQL. Names carry `_fts` so autogenerate and the
    # models-versus-migrations test leave them alone.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE workspace_text_fts USING fts5(content, content='workspace_text', content_rowid='entry_id', tokenize='unicode61 remove_diacritics 2')")
        op.execute("CREATE TRIGGER workspace_text_fts_ai AFTER INSERT ON workspace_text BEGIN INSERT INTO workspace_text_fts(rowid, content) VALUES (new.entry_id, new.content); END")
        op.execute("CREATE TRIGGER workspace_text_fts_ad AFTER DELETE ON workspace_text BEGIN INSERT INTO workspace_text_fts(workspace_text_fts, rowid, content) VALUES ('delete', old.entry_id, old.content); END")
        op.execute("CREATE TRIGGER workspace_text_fts_au AFTER UPDATE ON workspace_text BEGIN INSERT INTO workspace_text_fts(workspace_text_fts, rowid, content) VALUES ('delete', old.entry_id, old.content); INSERT INTO workspace_text_fts(rowid, content) VALUES (new.entry_id, new.content); END")
    else:
        op.execute("CREATE INDEX ix_workspace_text_fts ON workspace_text USING GIN (to_tsvector('simple', content))")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS workspace_text_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_workspace_text_fts")
    with op.batch_alter_table('workspace_text', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workspace_text_user_id'))

    op.drop_table('workspace_text')
    op.drop_table('workspace_usage')
    with op.batch_alter_table('workspace_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workspace_entry_user_id'))

    op.drop_table('workspace_entry')
    with op.batch_alter_table('workspace_chunk', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workspace_chunk_user_id'))

    op.drop_table('workspace_chunk')
