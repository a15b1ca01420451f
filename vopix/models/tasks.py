"""Reminders and scheduled agent tasks (issue 13): the task (its rule and time zone), each
occurrence's run, and the person's delivery settings (preferred channel, quiet hours).

A task stores its schedule as written: a local wall-clock start (`start_local`, no zone) plus an
RFC 5545 RRULE ("" for a one-off) plus the IANA zone. `next_run_at` (UTC) is derived from them
(vopix/core/tasks/schedule.py) and is what the claim reads; `occurrence_at` is the occurrence it
stands for (they differ while quiet hours hold a delivery back).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from vopix.core.clock import utcnow
from vopix.models.accounts import user_fk, utc_column


def _set_null_fk(target: str) -> Column:  # type: ignore[type-arg]
    return Column(Integer, ForeignKey(target, ondelete="SET NULL"), nullable=True, index=True)


class Task(SQLModel, table=True):
    """kind: reminder (a fixed text) | agent (a prompt the agent runs). status: active |
    paused | finished (a one-off that ran, or a rule with no occurrence left)."""

    __tablename__ = "task"
    __table_args__ = (
        # The claim: active tasks whose next run is due, oldest first.
        Index("ix_task_status_next_run_at", "status", "next_run_at"),
        Index("ix_task_user_id_created_at", "user_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=user_fk(index=False))
    kind: str = Field(default="reminder", max_length=16)
    title: str = Field(default="", max_length=120)
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    timezone: str = Field(default="UTC", max_length=64)
    start_local: str = Field(max_length=16)  # "YYYY-MM-DDTHH:MM", wall-clock time in `timezone`
    rrule: str = Field(default="", max_length=500)  # RFC 5545 RRULE without DTSTART; "" = once
    ignore_quiet_hours: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )
    status: str = Field(default="active", max_length=16)
    next_run_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    occurrence_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # The lease of the worker handling the due occurrence (None: nobody).
    lease_until: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    worker: str = Field(default="", max_length=40)
    # The task's own conversation, where every delivery is kept (made at the first one).
    conversation_id: int | None = Field(default=None, sa_column=_set_null_fk("conversation.id"))
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class TaskRun(SQLModel, table=True):
    """One occurrence of a task, at most one row per (task, occurrence): the key that makes a
    retried delivery send nothing twice. stage: started -> stored (the message is in the
    history) -> sending (handed to a channel) -> done. outcome: delivered | fallback | missed |
    refused (quota, account) | failed."""

    __tablename__ = "task_run"
    __table_args__ = (
        UniqueConstraint("task_id", "occurrence_at", name="uq_task_run_task_id"),
        Index("ix_task_run_user_id_started_at", "user_id", "started_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(
        sa_column=Column(Integer, ForeignKey("task.id", ondelete="CASCADE"), nullable=False)
    )
    user_id: int = Field(sa_column=user_fk(index=False))
    occurrence_at: datetime = Field(sa_column=utc_column())
    stage: str = Field(default="started", max_length=16)
    outcome: str = Field(default="", max_length=16)
    channel: str = Field(default="", max_length=16)  # where it was delivered in the end
    detail: str = Field(default="", max_length=300)
    late_seconds: int = Field(default=0)
    message_id: int | None = Field(default=None, sa_column=_set_null_fk("message.id"))
    # An agent task's prompt, once stored in the task's conversation: a retry after a crash
    # answers it again instead of storing (and counting) it a second time.
    prompt_id: int | None = Field(default=None, sa_column=_set_null_fk("message.id"))
    outbound_id: int | None = Field(default=None, sa_column=_set_null_fk("outbound_message.id"))
    started_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    finished_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class TaskSettings(SQLModel, table=True):
    """Where a person's tasks deliver (web | telegram | whatsapp) and their quiet hours, as
    local "HH:MM" times in their agent's time zone ("" and "": none)."""

    __tablename__ = "task_settings"

    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    )
    channel: str = Field(default="web", sa_column=Column(String(16), nullable=False, server_default="web"))
    quiet_start: str = Field(default="", max_length=5)
    quiet_end: str = Field(default="", max_length=5)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
