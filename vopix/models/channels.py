"""Telegram and WhatsApp: links between a chat and an account, one-time link codes, the
durable inbound queue and the outbound messages with their delivery status.

A chat id or a phone number is stored in `channel_link` only once its owner links it (P07);
an inbound event holds the raw update only until it is processed (then it is scrubbed), so an
unlinked sender leaves nothing behind but the dedupe key and a keyed hash for rate limiting.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from vopix.core.clock import utcnow
from vopix.models.accounts import user_fk, utc_column


def _set_null_fk(target: str) -> Column:  # type: ignore[type-arg]
    """A nullable reference that is cleared when its row goes (indexed: the clearing looks it up)."""
    return Column(Integer, ForeignKey(target, ondelete="SET NULL"), nullable=True, index=True)


class ChannelLink(SQLModel, table=True):
    """One linked chat per person and channel; one account per chat."""

    __tablename__ = "channel_link"
    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_channel_link_external"),
        UniqueConstraint("user_id", "channel", name="uq_channel_link_user_channel"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=user_fk(index=False))
    channel: str = Field(max_length=16)  # telegram | whatsapp
    external_id: str = Field(max_length=64)  # Telegram chat id, WhatsApp number (wa_id)
    display_name: str = Field(default="", max_length=120)
    linked_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    # WhatsApp: the person's last message opens a 24-hour window for free-form replies.
    last_inbound_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class ChannelLinkCode(SQLModel, table=True):
    """A one-time code (only its SHA-256 is kept), valid 15 minutes, used once."""

    __tablename__ = "channel_link_code"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=user_fk())
    channel: str = Field(max_length=16)
    code_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    expires_at: datetime = Field(sa_column=utc_column(index=True))
    used_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class InboundEvent(SQLModel, table=True):
    """A webhook or poll delivery, stored before it is acknowledged.

    status: pending -> processing -> done | failed. stage records how far processing got, so a
    restart resumes without repeating a step: received -> stored (the person's message is in
    the history) -> answered (the reply is queued as outbound rows) -> done.
    """

    __tablename__ = "inbound_event"
    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_inbound_event_external"),
        # The claim: pending (or processing, lease run out) events in id order...
        Index("ix_inbound_event_status_id", "status", "id"),
        # ...whose sender has no older unfinished event; the link throttle reads by sender too.
        Index("ix_inbound_event_sender_status_id", "sender_hash", "status", "id"),
        # The purge: finished events received before the retry period.
        Index("ix_inbound_event_status_received_at", "status", "received_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    external_id: str = Field(max_length=128)  # Telegram update_id, WhatsApp message id
    payload: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    status: str = Field(default="pending", max_length=16)
    stage: str = Field(default="received", max_length=16)
    attempts: int = Field(default=0)
    worker: str = Field(default="", max_length=40)
    sender_hash: str = Field(default="", max_length=64)
    user_id: int | None = Field(default=None, sa_column=user_fk(nullable=True))
    # SET NULL, not CASCADE: the row is the dedupe key of a delivery the provider may repeat.
    conversation_id: int | None = Field(default=None, sa_column=_set_null_fk("conversation.id"))
    user_message_id: int | None = Field(default=None, sa_column=_set_null_fk("message.id"))
    outcome: str = Field(default="", max_length=32)
    received_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    claimed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class OutboundMessage(SQLModel, table=True):
    """One message sent (or to send) to a linked chat, with the provider's id and status.

    status: queued -> sent -> delivered -> read, or failed / skipped. The body is kept only
    until the message is sent; the history holds the text.
    """

    __tablename__ = "outbound_message"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=user_fk())
    channel: str = Field(max_length=16)
    inbound_event_id: int | None = Field(default=None, sa_column=_set_null_fk("inbound_event.id"))
    seq: int = Field(default=0)
    kind: str = Field(default="text", max_length=16)  # text | template
    body: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    provider_message_id: str | None = Field(default=None, max_length=128, index=True)
    status: str = Field(default="queued", max_length=16)
    error: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(index=True))  # purge
    sent_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    status_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
