"""SQLite: user ids are never reused (AUTOINCREMENT)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 00:00:00

Without AUTOINCREMENT, SQLite gives the next sign-up the id of the newest account deleted,
and rows that still name that id without a foreign key (the access log, kept 30 days) would
read as the new person's. PostgreSQL sequences never reuse ids: nothing to do there. On
SQLite the user table is rebuilt (foreign keys off while migrating, see env.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rebuild_user(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "user", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
    ):
        pass


def upgrade() -> None:
    _rebuild_user(True)


def downgrade() -> None:
    _rebuild_user(False)
