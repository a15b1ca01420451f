"""user.plan_id references plan.id

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 00:00:00

A person on a plan id that no plan row has any more is put on 'free' first (seeded by 0002).
No ON DELETE: a plan people are on cannot be deleted until they are moved.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FK = "fk_user_plan_id_plan"


def upgrade() -> None:
    op.execute(
        sa.text('UPDATE "user" SET plan_id = \'free\' WHERE plan_id NOT IN (SELECT id FROM plan)')
    )
    with op.batch_alter_table("user") as batch:
        batch.create_foreign_key(FK, "plan", ["plan_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.drop_constraint(FK, type_="foreignkey")
