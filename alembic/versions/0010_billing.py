"""billing: a Stripe customer and subscription snapshot per person, the webhook events (a
queue the billing worker drains), and a Team plan

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import vopix.models.types

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = vopix.models.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "billing_account",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=True),
        sa.Column("subscription_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("price_id", sa.String(length=120), nullable=False),
        sa.Column("subscribed_plan_id", sa.String(length=32), nullable=False),
        sa.Column("current_period_end", UTC(), nullable=True),
        sa.Column("cancel_at_period_end", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("comp_plan_id", sa.String(length=32), nullable=True),
        sa.Column("synced_at", UTC(), nullable=True),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name="fk_billing_account_user_id_user", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", name="pk_billing_account"),
    )
    op.create_index("ix_billing_account_customer_id", "billing_account", ["customer_id"], unique=True)
    op.create_index("ix_billing_account_current_period_end", "billing_account", ["current_period_end"])
    op.create_table(
        "stripe_event",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("type", sa.String(length=80), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC(), nullable=False),
        sa.Column("claimed_at", UTC(), nullable=True),
        sa.Column("worker", sa.String(length=40), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=False),
        sa.Column("received_at", UTC(), nullable=False),
        sa.Column("processed_at", UTC(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_stripe_event"),
    )
    op.create_index("ix_stripe_event_received_at", "stripe_event", ["received_at"])
    op.create_index("ix_stripe_event_status_next_attempt_at", "stripe_event", ["status", "next_attempt_at"])
    op.create_index("ix_stripe_event_customer_id_status", "stripe_event", ["customer_id", "status"])
    plan = sa.table(
        "plan",
        sa.column("id", sa.String), sa.column("name", sa.String),
        sa.column("messages_per_month", sa.Integer), sa.column("api_calls_per_month", sa.Integer),
        sa.column("storage_bytes", sa.BigInteger), sa.column("price_cents", sa.Integer),
        sa.column("stripe_price_id", sa.String),
    )
    op.bulk_insert(plan, [
        {"id": "team", "name": "Team", "messages_per_month": 25000, "api_calls_per_month": 100000,
         "storage_bytes": 25 * 1024 * 1024 * 1024, "price_cents": 3900, "stripe_price_id": ""},
    ])


def downgrade() -> None:
    # People on the Team plan go back to Free before the plan goes (user.plan_id's foreign key).
    op.execute("UPDATE \"user\" SET plan_id = 'free' WHERE plan_id = 'team'")
    op.execute("DELETE FROM plan WHERE id = 'team'")
    op.drop_table("stripe_event")
    op.drop_table("billing_account")
