"""Delivering the fake Stripe's events (the `stripe_fake` fixture is in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.fakes.stripe import FakeStripeAPI, signed_delivery


@pytest.fixture
def deliver(stripe_fake: FakeStripeAPI) -> Callable[..., Any]:
    """Hand one event to the webhook handler as Stripe would (signed now)."""
    from vopix.core.billing import webhook

    def send(event: dict[str, Any], secret: str | None = None, timestamp: int | None = None) -> webhook.Outcome:
        body, headers = signed_delivery(event, secret or stripe_fake.webhook_secret, timestamp)
        return webhook.handle(body, headers["Stripe-Signature"])

    return send


def events_since(fake: FakeStripeAPI, mark: int, kind: str | None = None) -> list[dict[str, Any]]:
    return [e for e in fake.events[mark:] if kind is None or e["type"] == kind]


def subscribe(fake: FakeStripeAPI, user_id: int, plan: str = "pro") -> str:
    """Checkout as the person would: VOPIX opens it, the fake completes it; returns the sub id."""
    from vopix.core.billing import checkout

    url = checkout.start_checkout(user_id, plan)
    cs_id = url.rsplit("/", 1)[-1]
    fake.complete_checkout(cs_id)
    return str(fake.checkout_sessions[cs_id]["subscription"])
