"""notice.kind: what a notice is about, so pages select notices by kind, not by key prefix

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 00:00:00

Existing rows get their kind from the key they were written with (security:..., quota:...,
whatsapp-window-...); anything else is 'general'.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As vopix.core.kinds.NoticeKind was when this was written: a migration keeps its meaning.
KIND_BY_KEY_PREFIX = (
    ("security:", "security"),
    ("quota:", "quota"),
    ("whatsapp-window", "whatsapp_window"),
)


def upgrade() -> None:
    with op.batch_alter_table("notice") as batch:
        batch.add_column(sa.Column("kind", sa.String(24), nullable=False, server_default="general"))
    notice = sa.table("notice", sa.column("key", sa.String), sa.column("kind", sa.String))
    for prefix, kind in KIND_BY_KEY_PREFIX:
        op.execute(notice.update().where(notice.c.key.like(prefix + "%")).values(kind=kind))


def downgrade() -> None:
    with op.batch_alter_table("notice") as batch:
        batch.drop_column("kind")
