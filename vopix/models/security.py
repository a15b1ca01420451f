"""What an account has signed in from: networks (/16 IPv4, /64 IPv6) and devices, so a new one
raises an alert once and never again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from vopix.core.clock import utcnow
from vopix.models.accounts import user_fk, utc_column


class KnownSignIn(SQLModel, table=True):
    __tablename__ = "known_sign_in"
    __table_args__ = (UniqueConstraint("user_id", "kind", "value"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=user_fk(index=False))  # the unique constraint leads with it
    kind: str = Field(max_length=16)  # "network" | "device"
    value: str = Field(max_length=120)
    first_seen_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    last_seen_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
