"""The person's agent: persona, language, timezone and AI provider choice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, Text
from sqlmodel import AutoString, Field, SQLModel

from vopix.core.clock import utcnow
from vopix.models.accounts import utc_column


class AgentProfile(SQLModel, table=True):
    __tablename__ = "agent_profile"

    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    )
    name: str = Field(default="Vopi", max_length=60)
    personality: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    language: str = Field(default="English", max_length=60)
    timezone: str = Field(default="UTC", max_length=64)
    # "" means the platform default set by the operator.
    provider_kind: str = Field(default="", max_length=32)
    model: str = Field(default="", max_length=120)
    base_url: str = Field(default="", max_length=300)
    # A vault Secret id when the person brings their own key; a deleted secret leaves none.
    api_key_secret_id: str | None = Field(
        default=None,
        sa_column=Column(
            AutoString(36), ForeignKey("secret.id", ondelete="SET NULL"), nullable=True, index=True
        ),
    )
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
