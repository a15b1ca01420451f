"""The mail outbox and the single-use links (password reset, email confirmation and undo)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, Text
from sqlmodel import Field, SQLModel

from vopix.core.clock import utcnow
from vopix.models.accounts import user_fk, utc_column


class MailOutbox(SQLModel, table=True):
    """One mail to send, written in the transaction of the event that causes it. Once sent (or
    given up) its bodies are blanked: the links in them are single-use secrets."""

    __tablename__ = "mail_outbox"
    __table_args__ = (
        Index("ix_mail_outbox_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # Deleting the account deletes its queued mail (nothing more goes to it).
    user_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("user.id", ondelete="CASCADE"), nullable=True, index=True),
    )
    kind: str = Field(max_length=24)  # MailKind
    to_address: str = Field(max_length=254)
    subject: str = Field(max_length=200)
    text_body: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    html_body: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # RFC 8058 one-click unsubscribe target ("" for service-critical mail).
    unsubscribe_url: str = Field(default="", max_length=400)
    status: str = Field(default="pending", max_length=16)  # MailStatus
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    claimed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    worker: str = Field(default="", max_length=40)
    last_error: str = Field(default="", max_length=300)
    message_id: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(index=True))
    sent_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class ActionToken(SQLModel, table=True):
    """A single-use link's token, stored only as its SHA-256, with what it may do and until
    when."""

    __tablename__ = "action_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=user_fk())
    purpose: str = Field(max_length=24)  # TokenPurpose
    token_hash: str = Field(max_length=64, unique=True)
    data: str = Field(default="", max_length=400)  # e.g. the new address of an email change
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    expires_at: datetime = Field(sa_column=utc_column(index=True))
    used_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
