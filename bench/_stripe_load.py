"""The Stripe half of bench/webhooks.py: a loopback Stripe (tests/fakes/stripe.py) answering
after a set latency, subscribed people in the database, and signed events to send."""

from __future__ import annotations

import itertools
import json
import random
import time
from typing import Any

from tests.fakes.stripe import FakeStripeAPI, sign

PRICE = "price_bench_pro"


def bare_stripe_insert(event_id: str, kind: str, customer_id: str) -> None:
    """What the bare endpoint does: the same row INSERTed, without signature or dedupe."""
    from vopix.core.clock import utcnow
    from vopix.db import get_engine
    from vopix.models import StripeEvent

    now = utcnow()
    with get_engine().begin() as conn:
        table = StripeEvent.__table__  # type: ignore[attr-defined]
        conn.execute(table.insert().values(
            id=event_id, type=kind, customer_id=customer_id, status="bare", attempts=0, next_attempt_at=now,
            worker="", last_error="", received_at=now,
        ))


def settle_latencies(since_id: str = "") -> tuple[list[float], int]:
    """For the events the worker settled: seconds from stored to settled, and how many wait."""
    from sqlalchemy import select

    from vopix.core.kinds import StripeEventStatus
    from vopix.db import get_engine
    from vopix.models import StripeEvent

    table = StripeEvent.__table__  # type: ignore[attr-defined]
    with get_engine().connect() as conn:
        rows = conn.execute(select(table.c.status, table.c.received_at, table.c.processed_at)
                            .where(table.c.status != "bare")).all()
    done = [(r[2] - r[1]).total_seconds() for r in rows if r[0] == StripeEventStatus.DONE and r[2]]
    waiting = sum(1 for r in rows if r[0] in (StripeEventStatus.PENDING, StripeEventStatus.PROCESSING))
    return done, waiting


class StripeLoad:
    def __init__(self, latency: float) -> None:
        self.fake = FakeStripeAPI(prices={PRICE: {"unit_amount": 1200, "product_name": "Pro"}})
        self.latency = latency
        self.customers: list[str] = []
        self._ids = itertools.count(int(time.time()) * 1000)

    def start(self) -> StripeLoad:
        self.fake.start()
        return self

    def stop(self) -> None:
        self.fake.stop()

    def settings(self) -> dict[str, str]:
        return {
            "VOPIX_STRIPE_SECRET_KEY": self.fake.api_key,
            "VOPIX_STRIPE_WEBHOOK_SECRET": self.fake.webhook_secret,
            "VOPIX_STRIPE_API_BASE_URL": self.fake.url,
            "VOPIX_STRIPE_PRICES": f"pro={PRICE}",
        }

    def make_customers(self, count: int) -> None:
        """People who went through Checkout, as the app's own code makes them."""
        from vopix.core import accounts
        from vopix.core.billing import checkout

        for n in range(count):
            user = accounts.sign_up(f"bench-billing-{n}@example.com", "Tr0ub4dor&3-horse", age_confirmed=True)
            url = checkout.start_checkout(user.id, "pro")
            self.fake.complete_checkout(url.rsplit("/", 1)[-1])
            self.customers.append(checkout.ensure_customer(user.id))
        self.fake.latency = self.latency  # only the measured load waits

    def request(self) -> tuple[bytes, str]:
        """A signed invoice.paid for one of the customers (a new event id each time)."""
        event: dict[str, Any] = {
            "id": f"evt_bench_{next(self._ids)}", "object": "event", "api_version": "2026-10-28.endive",
            "created": int(time.time()), "type": "invoice.paid", "livemode": False, "pending_webhooks": 1,
            "data": {"object": {"object": "invoice", "id": "in_bench", "status": "paid",
                                "customer": random.choice(self.customers)}},
        }
        body = json.dumps(event).encode()
        return body, f"Stripe-Signature: {sign(body, self.fake.webhook_secret)}\r\n"
