"""Plans, metered usage per person per day, and in-app notices."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Date, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from vopix.core.clock import utcnow
from vopix.core.kinds import NoticeKind
from vopix.models.accounts import user_fk, utc_column


def _int_column(default: int) -> Column:  # type: ignore[type-arg]
    return Column(Integer, nullable=False, default=default, server_default=str(default))


class Plan(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=60)
    messages_per_month: int = Field(default=0)
    api_calls_per_month: int = Field(default=0)
    storage_bytes: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    price_cents: int = Field(default=0)
    stripe_price_id: str = Field(default="", max_length=120)
    # Running scripts in the sandbox (issue 16): seconds a month (0: no limit) and each run's limits.
    run_seconds_per_month: int = Field(default=600, sa_column=_int_column(600))
    run_wall_seconds: int = Field(default=30, sa_column=_int_column(30))
    run_memory_mb: int = Field(default=256, sa_column=_int_column(256))
    run_processes: int = Field(default=32, sa_column=_int_column(32))
    run_disk_mb: int = Field(default=256, sa_column=_int_column(256))
    # Reminders and scheduled tasks (issue 13): how many may be active at once.
    max_active_tasks: int = Field(default=5, sa_column=_int_column(5))


class UsageDaily(SQLModel, table=True):
    """One row per person, day (UTC) and model; model '' carries message counts."""

    __tablename__ = "usage_daily"
    __table_args__ = (UniqueConstraint("user_id", "day", "model", name="uq_usage_user_day_model"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=user_fk(index=False))  # the unique constraint leads with it
    day: date = Field(sa_column=Column(Date, nullable=False, index=True))
    model: str = Field(default="", max_length=120)
    api_calls: int = Field(default=0)
    input_tokens: int = Field(default=0)
    output_tokens: int = Field(default=0)
    messages: int = Field(default=0)
    run_seconds: int = Field(default=0, sa_column=_int_column(0))  # sandboxed script runs (wall time)


class Notice(SQLModel, table=True):
    """An in-app notice (quota warnings, security alerts); `key` makes each one once-only."""

    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_notice_user_key"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=user_fk(index=False))  # the unique constraint leads with it
    key: str = Field(max_length=120)
    # What it is about (NoticeKind): pages pick their notices by kind, never by key.
    kind: str = Field(
        default=NoticeKind.GENERAL,
        sa_column=Column(String(24), nullable=False, server_default=NoticeKind.GENERAL.value),
    )
    level: str = Field(default="info", max_length=16)
    text: str = Field(sa_column=Column(Text, nullable=False))
    link: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    read_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
