"""A web reply being streamed: its lease, which the running turn renews (vopix/core/agent/turn_lease.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, Text
from sqlmodel import Field, SQLModel

from vopix.models.accounts import user_fk, utc_column


class WebTurn(SQLModel, table=True):
    """One row per web turn while it runs; gone when it ends. A row whose lease ran out is a
    turn whose process died: its reply is stored as interrupted (with `text`, what had streamed
    at the last renewal) and the row removed, once."""

    __tablename__ = "web_turn"

    key: str = Field(primary_key=True, max_length=32)
    user_id: int = Field(sa_column=user_fk())
    conversation_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("conversation.id", ondelete="CASCADE"), nullable=True, index=True
        ),
    )
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    lease_until: datetime = Field(sa_column=utc_column())
