"""Conversations and messages, one history across web, Telegram and WhatsApp."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, Text
from sqlmodel import Field, SQLModel

from vopix.core.clock import utcnow
from vopix.models.accounts import user_fk, utc_column


class Conversation(SQLModel, table=True):
    __table_args__ = (Index("ix_conversation_user_updated", "user_id", "updated_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=user_fk(index=False))
    title: str = Field(default="New conversation", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class Message(SQLModel, table=True):
    """role: user, assistant, tool (a tool call and its result) or notice (platform text)."""

    __table_args__ = (Index("ix_message_conversation_id", "conversation_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("conversation.id", ondelete="CASCADE"), nullable=False, index=False
        )
    )
    user_id: int = Field(sa_column=user_fk())
    role: str = Field(max_length=16)
    content: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    channel: str = Field(default="web", max_length=16)
    # complete | streaming | stopped | error
    status: str = Field(default="complete", max_length=24)
    tool_name: str | None = Field(default=None, max_length=64)
    tool_call_id: str | None = Field(default=None, max_length=100)
    tool_args: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
