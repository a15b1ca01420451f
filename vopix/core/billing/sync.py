"""One function turns Stripe's view of a customer into the person's plan.

Webhook events repeat and arrive out of order, so none of them is trusted for state: the
billing worker (for the events waiting for a customer), the return from Checkout and the
operator's `billing sync` re-read the customer's subscriptions from Stripe and derive status,
plan and period from that one snapshot. On PostgreSQL the account row is locked across the
read, so two syncs of one customer write in the order they read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from vopix.core import plans
from vopix.core.billing import notify
from vopix.core.billing.stripe_api import client, plan_for_price
from vopix.core.clock import utcnow
from vopix.db import session_scope
from vopix.models import BillingAccount, Plan, User

log = logging.getLogger("vopix.billing")

# A subscription in one of these is the customer's current one; canceled and
# incomplete_expired ones are history.
LIVE_STATUSES = ("active", "trialing", "past_due", "unpaid", "incomplete", "paused")


@dataclass(frozen=True)
class Snapshot:
    subscription_id: str
    status: str  # "" when the customer never subscribed
    price_id: str
    current_period_end: datetime | None
    cancel_at_period_end: bool


@dataclass(frozen=True)
class SyncResult:
    user_id: int
    plan_id: str
    status: str
    plan_changed: bool


NO_SUBSCRIPTION = Snapshot("", "", "", None, False)


def _stamp(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), UTC) if value else None


def snapshot_of(subscriptions: list[Any]) -> Snapshot:
    """The customer's current subscription (a live one, newest first), else the latest ended."""
    if not subscriptions:
        return NO_SUBSCRIPTION
    live = [sub for sub in subscriptions if sub["status"] in LIVE_STATUSES]
    sub = max(live or subscriptions, key=lambda sub: int(sub.get("created") or 0))
    items = sub["items"]["data"] if sub.get("items") else []
    item = items[0] if items else {}
    price_id = item["price"]["id"] if item and item.get("price") else ""
    # API 2025-03-31 moved the period onto the items; older accounts still have it on the subscription.
    period_end = item.get("current_period_end") if item else None
    return Snapshot(
        subscription_id=sub["id"],
        status=str(sub["status"]),
        price_id=price_id,
        current_period_end=_stamp(period_end or sub.get("current_period_end")),
        cancel_at_period_end=bool(sub.get("cancel_at_period_end") or sub.get("cancel_at")),
    )


def read_snapshot(customer_id: str) -> Snapshot:
    listed = client().v1.subscriptions.list(params={"customer": customer_id, "status": "all", "limit": 20})
    return snapshot_of([sub.to_dict() for sub in listed.data])  # plain dicts from here on


def apply(s: Session, account: BillingAccount, snap: Snapshot) -> SyncResult:
    """Store the snapshot and the effective plan it gives, and tell the person what changed."""
    user = s.get(User, account.user_id)
    assert user is not None
    before_status, before_plan = account.status, user.plan_id
    plan_id = plan_for_price(s, snap.price_id) if snap.price_id else ""
    if snap.status and not plan_id:
        log.warning("billing: subscription %s has price %s, which no plan has",
                    snap.subscription_id, snap.price_id)
    account.subscription_id = snap.subscription_id
    account.status = snap.status
    account.price_id = snap.price_id
    account.subscribed_plan_id = plan_id
    account.current_period_end = snap.current_period_end
    account.cancel_at_period_end = snap.cancel_at_period_end
    account.synced_at = account.updated_at = utcnow()
    s.add(account)
    changed = _recompute(s, account.user_id, account)
    after_plan = s.exec(select(User.plan_id).where(User.id == account.user_id)).one()
    notify.transition(s, account.user_id, before_status, snap, before_plan, after_plan)
    return SyncResult(account.user_id, after_plan, snap.status, changed)


def _locked(s: Session, **where: Any) -> BillingAccount | None:
    stmt = select(BillingAccount).with_for_update()
    for key, value in where.items():
        stmt = stmt.where(getattr(BillingAccount, key) == value)
    return s.exec(stmt).first()


def sync_customer(customer_id: str) -> SyncResult | None:
    """Re-read one customer from Stripe; None for a customer VOPIX did not make."""
    with session_scope() as s:
        account = _locked(s, customer_id=customer_id)
        if account is None:
            return None
        return apply(s, account, read_snapshot(customer_id))


def sync_user(user_id: int) -> SyncResult | None:
    """The same for a person; None when they have no Stripe customer yet."""
    with session_scope() as s:
        account = _locked(s, user_id=user_id)
        if account is None or not account.customer_id:
            return None
        return apply(s, account, read_snapshot(account.customer_id))


def reconcile_due(now: datetime | None = None, limit: int = 200) -> int:
    """A safety net for lost webhooks: re-read every customer whose paid period ended over an
    hour ago (a renewal or an end that no event told us about). Returns how many were read."""
    moment = now or utcnow()
    with session_scope() as s:
        due = list(
            s.exec(
                select(BillingAccount.customer_id).where(
                    col(BillingAccount.customer_id).is_not(None),
                    col(BillingAccount.status).in_(LIVE_STATUSES),
                    col(BillingAccount.current_period_end) < moment - timedelta(hours=1),
                ).limit(limit)
            )
        )
    done = 0
    for customer_id in due:
        try:
            sync_customer(str(customer_id))
            done += 1
        except Exception:  # one customer's failure must not stop the others
            log.exception("billing: could not re-read customer %s", customer_id)
    return done


def _recompute(s: Session, user_id: int, account: BillingAccount | None) -> bool:
    """The effective plan from what is stored: support's plan, the subscription, or Free."""
    comp, status, subscribed = (
        (account.comp_plan_id, account.status, account.subscribed_plan_id) if account else (None, "", "")
    )
    effective = plans.effective_plan_id(comp, status, subscribed)
    return plans.set_effective(s, user_id, effective, plans.subscription_label(comp, status))


def set_comp(user_id: int, plan_id: str | None) -> SyncResult:
    """Give a person a plan without Stripe (support), or take it back (None)."""
    with session_scope() as s:
        if plan_id is not None and s.get(Plan, plan_id) is None:
            raise ValueError(f"there is no plan {plan_id!r}")
        account = s.get(BillingAccount, user_id) or BillingAccount(user_id=user_id)
        user = s.get(User, user_id)
        if user is None:
            raise ValueError(f"there is no account {user_id}")
        before_plan = user.plan_id
        account.comp_plan_id = plan_id
        account.updated_at = utcnow()
        s.add(account)
        s.flush()
        changed = _recompute(s, user_id, account)
        after = s.exec(select(User.plan_id).where(User.id == user_id)).one()
        snap = Snapshot(account.subscription_id, account.status, account.price_id,
                        account.current_period_end, account.cancel_at_period_end)
        notify.transition(s, user_id, account.status, snap, before_plan, after)
        return SyncResult(user_id, after, account.status, changed)

