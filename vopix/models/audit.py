"""Access log: who reached what, when, from where. Never bodies, cookies or tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Integer
from sqlmodel import Field, SQLModel

from vopix.core.clock import utcnow
from vopix.models.accounts import utc_column


class AccessLog(SQLModel, table=True):
    __tablename__ = "access_log"
    # A person's latest entries; the purge goes by `at` alone.
    __table_args__ = (Index("ix_access_log_user_id_at", "user_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=utc_column(index=True))
    ip: str = Field(default="", max_length=64)
    method: str = Field(max_length=16)
    path: str = Field(max_length=512)
    status: int = Field(default=0)
    # No foreign key, on purpose: entries are written in batches a second later with a user id
    # cached for 30 seconds, so the request that deletes an account is logged after the account
    # is gone (a foreign key would refuse the whole batch). Entries go after 30 days.
    user_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    duration_ms: int = Field(default=0)
