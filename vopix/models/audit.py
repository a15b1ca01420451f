"""Access log: who reached what, when, from where. Never bodies, cookies or tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Integer
from sqlmodel import Field, SQLModel

from vopix.core.clock import utcnow
from vopix.models.accounts import utc_column


class AccessLog(SQLModel, table=True):
    __tablename__ = "access_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=utc_column(index=True))
    ip: str = Field(default="", max_length=64)
    method: str = Field(max_length=16)
    path: str = Field(max_length=512)
    status: int = Field(default=0)
    # No foreign key: security logs outlive nothing but their 30 days, and a
    # deleted user's id in a log row identifies no one once the account is gone.
    user_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True, index=True))
    duration_ms: int = Field(default=0)
