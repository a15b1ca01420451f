"""sandbox: script runs, "run without asking" marks, run seconds metered per day, and each
plan's run limits

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 01:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import vopix.models.types

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = vopix.models.types.UTCDateTime
PLAN_COLUMNS = {  # column: default for every plan (Free's figures)
    "run_seconds_per_month": 600,
    "run_wall_seconds": 30,
    "run_memory_mb": 256,
    "run_processes": 32,
    "run_disk_mb": 256,
}
PAID = {  # the seeded paid plans get more
    "pro": {"run_seconds_per_month": 36000, "run_wall_seconds": 120, "run_memory_mb": 512,
            "run_processes": 64, "run_disk_mb": 512},
    "team": {"run_seconds_per_month": 180000, "run_wall_seconds": 300, "run_memory_mb": 1024,
             "run_processes": 64, "run_disk_mb": 1024},
}


def upgrade() -> None:
    with op.batch_alter_table("plan") as batch:
        for name, default in PLAN_COLUMNS.items():
            batch.add_column(sa.Column(name, sa.Integer(), server_default=str(default), nullable=False))
    for plan_id, values in PAID.items():
        sets = ", ".join(f"{k} = {int(v)}" for k, v in values.items())
        op.execute(f"UPDATE plan SET {sets} WHERE id = '{plan_id}'")
    with op.batch_alter_table("usage_daily") as batch:
        batch.add_column(sa.Column("run_seconds", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "script_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("script", sa.String(length=1024), nullable=False),
        sa.Column("args", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("stdout", sa.Text(), nullable=False),
        sa.Column("stderr", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("output_folder", sa.String(length=1024), nullable=False),
        sa.Column("files", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name="fk_script_run_user_id_user", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_script_run"),
    )
    op.create_index("ix_script_run_user_id_created_at", "script_run", ["user_id", "created_at"])
    op.create_table(
        "script_mark",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("path_key", sa.String(length=1024), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name="fk_script_mark_user_id_user", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "path_key", name="pk_script_mark"),
    )


def downgrade() -> None:
    op.drop_table("script_mark")
    op.drop_index("ix_script_run_user_id_created_at", table_name="script_run")
    op.drop_table("script_run")
    with op.batch_alter_table("usage_daily") as batch:
        batch.drop_column("run_seconds")
    with op.batch_alter_table("plan") as batch:
        for name in reversed(PLAN_COLUMNS):
            batch.drop_column(name)
