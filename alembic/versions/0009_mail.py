"""mail: the outbox, single-use links, the sign-ins an account has used, quota mail choice

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import vopix.models.types

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = vopix.models.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=False),
        sa.Column("unsubscribe_url", sa.String(length=400), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC(), nullable=False),
        sa.Column("claimed_at", UTC(), nullable=True),
        sa.Column("worker", sa.String(length=40), nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("sent_at", UTC(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name="fk_mail_outbox_user_id_user", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_mail_outbox"),
    )
    op.create_index("ix_mail_outbox_user_id", "mail_outbox", ["user_id"])
    op.create_index("ix_mail_outbox_created_at", "mail_outbox", ["created_at"])
    op.create_index("ix_mail_outbox_status_next_attempt_at", "mail_outbox", ["status", "next_attempt_at"])

    op.create_table(
        "action_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=24), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("data", sa.String(length=400), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("expires_at", UTC(), nullable=False),
        sa.Column("used_at", UTC(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name="fk_action_token_user_id_user", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_action_token"),
        sa.UniqueConstraint("token_hash", name="uq_action_token_token_hash"),
    )
    op.create_index("ix_action_token_user_id", "action_token", ["user_id"])
    op.create_index("ix_action_token_expires_at", "action_token", ["expires_at"])

    op.create_table(
        "known_sign_in",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=120), nullable=False),
        sa.Column("first_seen_at", UTC(), nullable=False),
        sa.Column("last_seen_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name="fk_known_sign_in_user_id_user", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_known_sign_in"),
        sa.UniqueConstraint("user_id", "kind", "value", name="uq_known_sign_in_user_id"),
    )

    # (table_kwargs: a SQLite rebuild must keep 0008's AUTOINCREMENT)
    with op.batch_alter_table("user", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.add_column(sa.Column("quota_mail_opt_in", sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table("user", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("quota_mail_opt_in")
    op.drop_table("known_sign_in")
    op.drop_table("action_token")
    op.drop_table("mail_outbox")
