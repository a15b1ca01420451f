"""Stripe's webhook: verify the signature over the raw body, store the event (a repeated id is
acknowledged and changes nothing), acknowledge. The billing worker then re-reads the customer the
event names (events.py, sync.py): no event body is trusted for state."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import stripe

from vopix.core.billing import events
from vopix.settings import get_settings

log = logging.getLogger("vopix.billing.webhook")

TOLERANCE_SECONDS = 300  # Stripe's default: an older signature is a replay
RELEVANT = frozenset({
    "checkout.session.completed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.paused",
    "customer.subscription.resumed",
    "invoice.paid",
    "invoice.payment_failed",
    "invoice.payment_succeeded",
})


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict[str, str]


def _customer_of(obj: dict[str, Any]) -> str:
    customer = obj.get("customer")
    if isinstance(customer, dict):
        customer = customer.get("id")  # an expanded customer
    return customer if isinstance(customer, str) else ""


def handle(raw: bytes, signature: str | None) -> Outcome:
    secret = get_settings().stripe_webhook_secret
    if not secret or not get_settings().stripe_secret_key:
        return Outcome(404, {"error": "billing is off"})
    if not signature:
        return Outcome(400, {"error": "missing Stripe-Signature"})
    try:
        payload = raw.decode("utf-8")
        # The SDK's own check of the signature over the raw body; the body is then read as plain
        # JSON (construct_event would also build Stripe objects we do not use: half the cost).
        stripe.WebhookSignature.verify_header(payload, signature, secret, TOLERANCE_SECONDS)
        event = json.loads(payload)
    except stripe.SignatureVerificationError:
        log.warning("stripe webhook: bad or stale signature on %d bytes", len(raw))
        return Outcome(400, {"error": "bad signature"})
    except (ValueError, UnicodeDecodeError, RecursionError):
        log.warning("stripe webhook: malformed body of %d bytes", len(raw))
        return Outcome(400, {"error": "malformed event"})
    if not isinstance(event, dict):
        return Outcome(400, {"error": "malformed event"})
    event_id, kind = event.get("id"), event.get("type")
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(event_id, str) or not isinstance(kind, str) or not isinstance(obj, dict):
        log.warning("stripe webhook: signed body without id, type or data.object")
        return Outcome(400, {"error": "malformed event"})
    if kind not in RELEVANT:
        return Outcome(200, {"status": "ignored"})
    new = events.store(event_id, kind, _customer_of(obj))
    return Outcome(200, {"status": "ok" if new else "duplicate"})
