"""Everything the Billing page shows, read in one go: the effective plan and what it includes,
this month's usage against it, the subscription's state and dates, and the plans on offer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from vopix.core import plans, usage
from vopix.core.billing import stripe_api, sync
from vopix.core.workspace import meter
from vopix.db import session_scope
from vopix.models import BillingAccount, User


@dataclass(frozen=True)
class Offer:
    plan_id: str
    name: str
    price_cents: int
    messages_per_month: int
    api_calls_per_month: int
    storage_bytes: int
    buyable: bool  # a paid plan with a Stripe price, while billing is on
    current: bool


@dataclass(frozen=True)
class Overview:
    enabled: bool
    limits: plans.PlanLimits
    status: str  # the account's subscription status (P01): free, active, past_due, comped, ...
    period_end: datetime | None
    cancel_at_period_end: bool
    comped: bool
    has_customer: bool
    has_subscription: bool  # a live one: plan changes go through it, not a new Checkout
    month: usage.MonthUsage
    storage_used: int
    offers: list[Offer]


def overview(user_id: int) -> Overview:
    enabled = stripe_api.enabled()
    price_of = stripe_api.prices() if enabled else {}
    with session_scope() as s:
        limits = plans.limits_of(s, user_id)
        account = s.get(BillingAccount, user_id)
        if account is not None:
            s.expunge(account)
        user = s.get(User, user_id)
        status = user.subscription_status if user else plans.FREE
    live = bool(account and account.subscription_id and account.status in sync.LIVE_STATUSES)
    offers = [
        Offer(
            p.id, p.name, p.price_cents, p.messages_per_month, p.api_calls_per_month, p.storage_bytes,
            buyable=enabled and p.price_cents > 0 and bool(price_of.get(p.id)),
            current=p.id == limits.plan_id,
        )
        for p in plans.list_plans()
    ]
    return Overview(
        enabled=enabled,
        limits=limits,
        status=status,
        period_end=account.current_period_end if live and account else None,
        cancel_at_period_end=bool(live and account and account.cancel_at_period_end),
        comped=bool(account and account.comp_plan_id),
        has_customer=bool(account and account.customer_id),
        has_subscription=live,
        month=usage.month_usage(user_id),
        storage_used=meter.storage_used(user_id),
        offers=offers,
    )
