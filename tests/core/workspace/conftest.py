"""Fixtures for workspace tests: the workspace plugged in, and people who own one."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from vopix.db import session_scope
from vopix.models import Plan, WorkspaceChunk


def chunk_count() -> int:
    """Stored content chunks, everyone's: what a refused or failed write must leave unchanged."""
    with session_scope() as s:
        return s.exec(select(func.count()).select_from(WorkspaceChunk)).one()


@pytest.fixture
def ws_user(make_user) -> int:
    user_id, _, _ = make_user()
    return user_id


@pytest.fixture
def storage_limit():
    """Set the free plan's storage limit for one test (restored by the database clean-up)."""

    def apply(limit: int) -> None:
        with session_scope() as s:
            plan = s.get(Plan, "free")
            plan.storage_bytes = limit
            s.add(plan)

    return apply


# The agent's fake provider and a user pointed at it, shared with the agent tests.
from tests.core.agent.conftest import agent_user, fake_ai  # noqa: E402, F401
