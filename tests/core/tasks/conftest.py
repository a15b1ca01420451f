"""Helpers for task tests: a person with a time zone, and the worker driven by a test clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from vopix.core.agent import profile
from vopix.core.tasks import worker
from vopix.db import session_scope
from vopix.models import Message, Task, TaskRun

# A fixed instant every test starts from (the store and the worker take the time as an argument).
T0 = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=1)


@pytest.fixture
def person(make_user) -> Callable[..., int]:
    def make(zone: str = "Europe/Berlin") -> int:
        user_id, _, _ = make_user()
        profile.update_persona(user_id, name="Vopi", personality="", language="English", timezone=zone)
        return user_id

    return make


def run_at(moment: datetime, worker_id: str = "w1") -> int:
    """Run every occurrence due at `moment` (the workers' clock reads `moment`)."""
    return asyncio.run(worker.run_due(worker_id, lambda: moment))


def runs_of(task_id: int) -> list[TaskRun]:
    with session_scope() as s:
        return list(s.exec(select(TaskRun).where(TaskRun.task_id == task_id).order_by(col(TaskRun.occurrence_at))))


def task_row(task_id: int) -> Task:
    with session_scope() as s:
        row = s.get(Task, task_id)
        assert row is not None
        return row


def task_messages(user_id: int) -> list[Message]:
    with session_scope() as s:
        return list(s.exec(select(Message).where(Message.user_id == user_id, Message.channel == "task")
                           .order_by(col(Message.id))))
