"""Encrypted secrets (API keys, OAuth tokens). Plaintext never touches this table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, SQLModel

from vopix.core.clock import utcnow
from vopix.models.accounts import user_fk, utc_column


class Secret(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=36)
    user_id: int = Field(sa_column=user_fk())
    purpose: str = Field(max_length=64, index=True)
    key_id: str = Field(max_length=32, index=True)
    nonce: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    ciphertext: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    hint: str = Field(default="", max_length=8)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
