"""The log of every call the agent made with a credential: what (in words), where it was asked
(conversation, channel), and how it went. Newest first, paged, filterable by service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlmodel import col, select

from vopix.core.agent.tools import ToolContext
from vopix.db import session_scope
from vopix.models import Conversation, IntegrationActivity

PAGE = 25


@dataclass(frozen=True)
class ActivityView:
    id: int
    at: datetime
    service: str
    tool: str
    action: str
    outcome: str
    detail: str
    conversation_id: int | None
    conversation_title: str
    channel: str


def record(ctx: ToolContext, service: str, tool: str, action: str, *, ok: bool, detail: str = "") -> None:
    with session_scope() as s:
        if s.get_bind().dialect.name == "postgresql":
            # Not worth a WAL flush per tool call (2-5 ms): PostgreSQL writes the row out within
            # a fraction of a second; only a crash of the database server in that moment loses
            # it (the access log's batch writer makes the same trade).
            s.execute(text("SET LOCAL synchronous_commit TO OFF"))
        s.add(IntegrationActivity(
            user_id=ctx.user_id, service=service, tool=tool[:64], action=action[:300],
            outcome="ok" if ok else "failed", detail=detail[:300],
            conversation_id=ctx.conversation_id or None, channel=ctx.channel[:16],
        ))


def list_activity(
    user_id: int, *, service: str = "", before_id: int | None = None, limit: int = PAGE
) -> tuple[list[ActivityView], bool]:
    """One page, newest first, and whether there is an older one."""
    stmt = (
        select(IntegrationActivity, Conversation.title)
        .join(Conversation, col(Conversation.id) == col(IntegrationActivity.conversation_id), isouter=True)
        .where(IntegrationActivity.user_id == user_id)
        .order_by(col(IntegrationActivity.id).desc())  # ids grow with time
        .limit(limit + 1)
    )
    if service:
        stmt = stmt.where(IntegrationActivity.service == service)
    if before_id is not None:
        stmt = stmt.where(col(IntegrationActivity.id) < before_id)
    with session_scope() as s:
        rows = s.exec(stmt).all()
    views = [
        ActivityView(a.id or 0, a.at, a.service, a.tool, a.action, a.outcome, a.detail, a.conversation_id,
                     title or "", a.channel)
        for a, title in rows[:limit]
    ]
    return views, len(rows) > limit
