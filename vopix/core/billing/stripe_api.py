"""The Stripe client, built from the settings, and the plan <-> price mapping."""

from __future__ import annotations

from functools import lru_cache

import stripe
from sqlmodel import Session, select

from vopix.db import session_scope
from vopix.models import Plan
from vopix.settings import get_settings


class BillingOff(Exception):
    """VOPIX_STRIPE_SECRET_KEY is not set: nothing can be bought, everyone keeps their plan."""

    def __init__(self) -> None:
        super().__init__("Billing is not set up on this VOPIX server.")


def enabled() -> bool:
    return bool(get_settings().stripe_secret_key)


@lru_cache(maxsize=4)
def _client(key: str, base_url: str) -> stripe.StripeClient:
    # Stripe's SDK retries idempotent requests (and POSTs, with an idempotency key it adds).
    return stripe.StripeClient(key, base_addresses={"api": base_url}, max_network_retries=2)


def client() -> stripe.StripeClient:
    cfg = get_settings()
    if not cfg.stripe_secret_key:
        raise BillingOff()
    return _client(cfg.stripe_secret_key, cfg.stripe_api_base_url)


def prices_in(s: Session) -> dict[str, str]:
    """plan id -> Stripe price id: VOPIX_STRIPE_PRICES wins over the plan table's column."""
    stored = {pid: price for pid, price in s.exec(select(Plan.id, Plan.stripe_price_id)) if price}
    return {**stored, **get_settings().stripe_prices}


def prices() -> dict[str, str]:
    with session_scope() as s:
        return prices_in(s)


def price_for(plan_id: str) -> str:
    return prices().get(plan_id, "")


def plan_for_price(s: Session, price_id: str) -> str:
    """The plan a Stripe price buys; '' for a price no plan has."""
    return next((plan for plan, price in prices_in(s).items() if price == price_id), "")


def settings_price(plan_id: str) -> str:
    """The price VOPIX_STRIPE_PRICES gives the plan ('' when the plan table decides)."""
    return get_settings().stripe_prices.get(plan_id, "")


def monthly_amount(price_id: str) -> int | None:
    """What Stripe charges a month for `price_id`, in cents; None for no such recurring
    monthly price."""
    try:
        price = client().v1.prices.retrieve(price_id)
    except stripe.InvalidRequestError:
        return None
    recurring = price.recurring
    if recurring is None or recurring.interval != "month" or recurring.interval_count != 1:
        return None
    return price.unit_amount
