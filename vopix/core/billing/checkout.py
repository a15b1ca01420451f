"""What a person starts from the Billing page: Checkout for a first paid plan, a switch between
paid plans, the Customer Portal (payment method, invoices, cancel), and the invoice list. All
payment details are entered on Stripe's pages (P21)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError

from vopix.core.billing import sync
from vopix.core.billing.stripe_api import client, price_for
from vopix.core.clock import utcnow
from vopix.core.mail import outbox
from vopix.db import session_scope
from vopix.models import BillingAccount, User

RETURN_PATH = "/billing"


class BillingError(Exception):
    """Shown to the person as it is."""


@dataclass(frozen=True)
class InvoiceView:
    number: str
    created: datetime
    amount_cents: int
    currency: str
    status: str
    url: str


def _customer_of(user_id: int) -> tuple[str | None, BillingAccount | None]:
    with session_scope() as s:
        account = s.get(BillingAccount, user_id)
        if account is not None:
            s.expunge(account)
        return (account.customer_id if account else None), account


def ensure_customer(user_id: int) -> str:
    """The person's Stripe customer, made on first need with the VOPIX user id in its metadata.
    The idempotency key makes two racing first clicks one customer."""
    customer_id, _ = _customer_of(user_id)
    if customer_id:
        return customer_id
    with session_scope() as s:
        user = s.get(User, user_id)
        if user is None:
            raise BillingError("This account no longer exists.")
        email, created = user.email, int(user.created_at.timestamp())
    # The key names this very account (its id and creation time): two racing first clicks share
    # it, while a database whose ids started again (a test reset) never meets an old key.
    customer = client().v1.customers.create(
        params={"email": email, "metadata": {"vopix_user_id": str(user_id)}},
        options={"idempotency_key": f"vopix-customer-{user_id}-{created}"},
    )
    try:
        with session_scope() as s:
            account = s.get(BillingAccount, user_id)
            if account is None:
                s.add(BillingAccount(user_id=user_id, customer_id=customer.id))
            elif not account.customer_id:
                account.customer_id = customer.id
                s.add(account)
    except IntegrityError:  # the racing click stored the same customer first
        pass
    customer_id, _ = _customer_of(user_id)
    assert customer_id is not None
    return customer_id


def _has_live_subscription(account: BillingAccount | None) -> bool:
    return bool(account and account.subscription_id and account.status in sync.LIVE_STATUSES)


def start_checkout(user_id: int, plan_id: str) -> str:
    """The URL of a Stripe Checkout page for `plan_id`; back to /billing either way."""
    api = client()  # BillingOff first: without a key nothing can be bought
    price = price_for(plan_id)
    if not price:
        raise BillingError("That plan cannot be bought here.")
    customer_id = ensure_customer(user_id)
    sync.sync_user(user_id)  # a subscription made elsewhere (another tab) counts
    _, account = _customer_of(user_id)
    if _has_live_subscription(account):
        raise BillingError("You already have a subscription: switch plans or manage it below.")
    back = outbox.link(RETURN_PATH)
    session = api.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer_id,
            "client_reference_id": str(user_id),
            "line_items": [{"price": price, "quantity": 1}],
            "success_url": f"{back}?checkout={{CHECKOUT_SESSION_ID}}",
            "cancel_url": f"{back}?checkout=cancelled",
            "subscription_data": {"metadata": {"vopix_user_id": str(user_id), "plan": plan_id}},
        }
    )
    if not session.url:
        raise BillingError("Stripe did not open a checkout page; try again in a moment.")
    return str(session.url)


def portal_url(user_id: int) -> str:
    """Stripe's Customer Portal for this person, returning to /billing."""
    customer_id, _ = _customer_of(user_id)
    if not customer_id:
        raise BillingError("There is nothing to manage yet: you have never subscribed.")
    portal = client().v1.billing_portal.sessions.create(
        params={"customer": customer_id, "return_url": outbox.link(RETURN_PATH)}
    )
    return str(portal.url)


def switch_plan(user_id: int, plan_id: str) -> sync.SyncResult | None:
    """Move the one subscription to another paid plan (prorated), or take back a scheduled
    cancellation when the plan is the current one."""
    stripe_api = client().v1.subscriptions
    price = price_for(plan_id)
    if not price:
        raise BillingError("That plan cannot be bought here.")
    sync.sync_user(user_id)
    _, account = _customer_of(user_id)
    if account is None or not _has_live_subscription(account):
        raise BillingError("You have no subscription to change: choose a plan to subscribe.")
    if account.price_id == price:
        if account.cancel_at_period_end:
            stripe_api.update(account.subscription_id, params={"cancel_at_period_end": False})
        return sync.sync_user(user_id)
    subscription = stripe_api.retrieve(account.subscription_id).to_dict()
    item = subscription["items"]["data"][0]
    stripe_api.update(
        account.subscription_id,
        params={
            "items": [{"id": item["id"], "price": price}],
            "proration_behavior": "create_prorations",
            "cancel_at_period_end": False,
        },
    )
    return sync.sync_user(user_id)


def invoices(user_id: int, months: int = 12) -> list[InvoiceView]:
    """The person's invoices of the last `months` months, newest first, read live from Stripe
    (only what the page shows; nothing is stored)."""
    customer_id, _ = _customer_of(user_id)
    if not customer_id:
        return []
    since = int((utcnow() - timedelta(days=31 * months)).timestamp())
    listed = client().v1.invoices.list(
        params={"customer": customer_id, "created": {"gte": since}, "limit": 24}
    )
    out = []
    for inv in (found.to_dict() for found in listed.data):
        if inv.get("status") in ("draft", "void") or not inv.get("hosted_invoice_url"):
            continue
        out.append(InvoiceView(
            number=str(inv.get("number") or inv["id"]),
            created=datetime.fromtimestamp(int(inv["created"]), UTC),
            amount_cents=int(inv.get("amount_paid") or inv.get("amount_due") or 0),
            currency=str(inv.get("currency") or "eur"),
            status=str(inv.get("status") or ""),
            url=str(inv["hosted_invoice_url"]),
        ))
    return out
