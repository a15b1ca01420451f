"""What VOPIX keeps of a person's Stripe billing: ids, status, plan, period dates. Nothing else
from Stripe is stored (P21: no card data ever reaches VOPIX; invoices are read live)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, false
from sqlmodel import Field, SQLModel

from vopix.core.clock import utcnow
from vopix.models.accounts import utc_column


class BillingAccount(SQLModel, table=True):
    """One per person who ever started a Checkout or was given a plan by support."""

    __tablename__ = "billing_account"

    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    )
    # Made before the first Checkout, with the VOPIX user id in its metadata.
    customer_id: str | None = Field(default=None, max_length=64, unique=True, index=True)
    # The customer's one subscription, as last read from Stripe ("" before any).
    subscription_id: str = Field(default="", max_length=64)
    status: str = Field(default="", max_length=24)  # Stripe's subscription status
    price_id: str = Field(default="", max_length=120)
    subscribed_plan_id: str = Field(default="", max_length=32)  # the plan of that price
    current_period_end: datetime | None = Field(default=None, sa_column=utc_column(nullable=True, index=True))
    cancel_at_period_end: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )
    # A plan given by support without Stripe; it wins over the subscription while set.
    comp_plan_id: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    synced_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class StripeEvent(SQLModel, table=True):
    """A webhook event, stored before it is acknowledged; its id makes a repeated delivery
    change nothing. The billing worker re-reads the customer it names (core/billing/events.py)."""

    __tablename__ = "stripe_event"
    __table_args__ = (
        Index("ix_stripe_event_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_stripe_event_customer_id_status", "customer_id", "status"),
    )

    id: str = Field(primary_key=True, max_length=80)
    type: str = Field(max_length=80)
    customer_id: str = Field(default="", max_length=64)
    status: str = Field(default="pending", max_length=16)  # StripeEventStatus
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    claimed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    worker: str = Field(default="", max_length=40)
    last_error: str = Field(default="", max_length=200)
    received_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(index=True))
    processed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
