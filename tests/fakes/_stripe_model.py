"""The state of the fake Stripe server (see ``tests/fakes/stripe.py``): objects, clock, events,
webhook delivery and the object builders shared by the API and the test controls.

Objects are plain dicts in the current API shapes; every change goes through one lock and
emits the events real Stripe would. Events are delivered (signed) only after the lock is
released, so a webhook handler may call back into the fake.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from tests.fakes._stripe_wire import API_VERSION, format_amount, new_id, signed_delivery

PERIOD = 30 * 24 * 3600  # one billing period ("a month")
_INTERVAL_WORDS = {"day": "day", "week": "week", "month": "month", "year": "year"}
_KIND_BY_PREFIX = {
    "cus_": "customers", "cs_": "checkout_sessions", "bps_": "portal_sessions",
    "sub_": "subscriptions", "in_": "invoices", "price_": "prices", "prod_": "products",
    "evt_": "events_by_id",
}


class StripeModel:
    """Mixin holding the fake's objects, clock, events and controls."""

    url: str

    def _init_model(self, webhook_secret: str, now: float | None) -> None:
        self._lock = threading.RLock()
        self._ctx = threading.local()
        self.webhook_secret = webhook_secret
        self.now = int(time.time() if now is None else now)
        self.customers: dict[str, dict[str, Any]] = {}
        self.checkout_sessions: dict[str, dict[str, Any]] = {}
        self.portal_sessions: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.invoices: dict[str, dict[str, Any]] = {}
        self.prices: dict[str, dict[str, Any]] = {}
        self.products: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self.events_by_id: dict[str, dict[str, Any]] = {}
        self.deliveries: list[tuple[str, int]] = []
        self._line_items: dict[str, list[tuple[str, int]]] = {}  # cs id -> [(price id, qty)]
        self._sub_metadata: dict[str, dict[str, str]] = {}  # cs id -> subscription_data.metadata
        self._outbox: list[dict[str, Any]] = []
        self._webhook_url: str | None = None
        self._http: httpx.Client | None = None

    # ------------------------------------------------------------------ set-up and reading

    def add_price(
        self,
        price_id: str,
        *,
        unit_amount: int,
        currency: str = "eur",
        interval: str | None = "month",
        product_name: str = "VOPIX",
        lookup_key: str | None = None,
    ) -> dict[str, Any]:
        """Register a price (``interval=None``: one-time) and its product; returns the price."""
        with self._lock:
            product = next((p for p in self.products.values() if p["name"] == product_name), None)
            if product is None:
                product = {"id": new_id("prod_", 14), "object": "product", "active": True,
                           "created": self.now, "livemode": False, "metadata": {},
                           "name": product_name, "description": None}
                self.products[product["id"]] = product
            price = {
                "id": price_id, "object": "price", "active": True, "billing_scheme": "per_unit",
                "created": self.now, "currency": currency, "livemode": False,
                "lookup_key": lookup_key, "metadata": {}, "nickname": None,
                "product": product["id"], "tax_behavior": "unspecified",
                "recurring": None if interval is None else {
                    "interval": interval, "interval_count": 1, "usage_type": "licensed",
                    "meter": None, "trial_period_days": None},
                "type": "one_time" if interval is None else "recurring",
                "unit_amount": unit_amount, "unit_amount_decimal": str(unit_amount),
            }
            self.prices[price_id] = price
            return copy.deepcopy(price)

    def get(self, object_id: str) -> dict[str, Any] | None:
        """A copy of any object by id (cus_, cs_, bps_, sub_, in_, price_, prod_, evt_)."""
        with self._lock:
            obj = self._find(object_id)
            return copy.deepcopy(obj) if obj is not None else None

    def _find(self, object_id: str) -> dict[str, Any] | None:
        for prefix, attr in _KIND_BY_PREFIX.items():
            if object_id.startswith(prefix):
                return getattr(self, attr).get(object_id)
        return None

    def advance(self, seconds: float) -> int:
        """Move the fake clock forward; returns the new ``now``."""
        with self._lock:
            self.now += int(seconds)
            return self.now

    def price_label(self, price: Mapping[str, Any], quantity: int = 1) -> str:
        """``"€12.00 per month"`` (what Checkout and the portal show)."""
        amount = format_amount(int(price["unit_amount"]) * quantity, str(price["currency"]))
        recurring = price.get("recurring")
        return f"{amount} per {_INTERVAL_WORDS[recurring['interval']]}" if recurring else amount

    def product_name(self, price: Mapping[str, Any]) -> str:
        product = self.products.get(str(price["product"]))
        return str(product["name"]) if product else str(price["product"])

    def checkout_line_items(self, cs_id: str) -> list[tuple[dict[str, Any], int]]:
        with self._lock:
            return [(copy.deepcopy(self.prices[p]), q) for p, q in self._line_items.get(cs_id, [])]

    def current_subscription(self, customer_id: str) -> dict[str, Any] | None:
        """The customer's newest subscription that has not ended, else its newest one."""
        with self._lock:
            subs = [s for s in self.subscriptions.values() if s["customer"] == customer_id]
            live = [s for s in subs if s["status"] != "canceled"]
            pick = (live or subs or [None])[-1]
            return copy.deepcopy(pick) if pick is not None else None

    def invoices_of(self, subscription_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(i) for i in self.invoices.values() if subscription_of(i) == subscription_id]

    # ------------------------------------------------------------------ events and delivery

    def deliver_to(self, url: str | None) -> None:
        """POST every new event, signed with ``webhook_secret``, to ``url`` (None: stop)."""
        with self._lock:
            self._webhook_url = url
            if url is not None and self._http is None:
                self._http = httpx.Client(timeout=30)

    def _emit(self, type_: str, obj: dict[str, Any], before: dict[str, Any] | None = None) -> None:
        data: dict[str, Any] = {"object": copy.deepcopy(obj)}
        if before is not None:
            data["previous_attributes"] = {k: v for k, v in before.items() if obj.get(k) != v}
        event = {
            "id": new_id("evt_"), "object": "event", "api_version": API_VERSION,
            "created": self.now, "data": data, "livemode": False, "pending_webhooks": 1,
            "request": {"id": getattr(self._ctx, "request_id", None),
                        "idempotency_key": getattr(self._ctx, "idempotency_key", None)},
            "type": type_,
        }
        self.events.append(event)
        self.events_by_id[event["id"]] = event
        if self._webhook_url is not None:
            self._outbox.append(event)

    def _flush(self) -> None:
        """Deliver pending events, in order, outside the lock (call after every mutation)."""
        while True:
            with self._lock:
                if not self._outbox:
                    return
                event = self._outbox.pop(0)
                url, client = self._webhook_url, self._http
            if url is None or client is None:
                continue
            body, headers = signed_delivery(event, self.webhook_secret)
            try:
                status = client.post(url, content=body, headers=headers).status_code
            except httpx.HTTPError:
                status = 0
            with self._lock:
                self.deliveries.append((event["id"], status))

    def _close_model(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    # ------------------------------------------------------------------ builders

    def _new_customer(self, email: str | None, name: str | None = None,
                      metadata: dict[str, str] | None = None) -> dict[str, Any]:
        customer = {
            "id": new_id("cus_", 14), "object": "customer", "address": None, "balance": 0,
            "created": self.now, "currency": None, "default_source": None, "delinquent": False,
            "description": None, "email": email, "invoice_prefix": new_id("", 8).upper(),
            "invoice_settings": {"custom_fields": None, "default_payment_method": None,
                                 "footer": None, "rendering_options": None},
            "livemode": False, "metadata": dict(metadata or {}), "name": name,
            "next_invoice_sequence": 1, "phone": None, "preferred_locales": [],
            "shipping": None, "tax_exempt": "none", "test_clock": None,
        }
        self.customers[customer["id"]] = customer
        return customer

    def _new_item(self, sub_id: str, price_id: str, quantity: int, start: int, end: int
                  ) -> dict[str, Any]:
        return {"id": new_id("si_", 14), "object": "subscription_item", "created": self.now,
                "current_period_end": end, "current_period_start": start, "discounts": [],
                "metadata": {}, "price": copy.deepcopy(self.prices[price_id]),
                "quantity": quantity, "subscription": sub_id, "tax_rates": []}

    def _new_subscription(self, customer_id: str, items: list[tuple[str, int]],
                          metadata: dict[str, str]) -> dict[str, Any]:
        sub_id = new_id("sub_")
        start, end = self.now, self.now + PERIOD
        sub = {
            "id": sub_id, "object": "subscription", "billing_cycle_anchor": start,
            "cancel_at": None, "cancel_at_period_end": False, "canceled_at": None,
            "cancellation_details": {"comment": None, "feedback": None, "reason": None},
            "collection_method": "charge_automatically", "created": self.now,
            "currency": self.prices[items[0][0]]["currency"], "customer": customer_id,
            "default_payment_method": None, "description": None, "discounts": [],
            "ended_at": None,
            "items": {"object": "list",
                      "data": [self._new_item(sub_id, p, q, start, end) for p, q in items],
                      "has_more": False, "url": f"/v1/subscription_items?subscription={sub_id}"},
            "latest_invoice": None, "livemode": False, "metadata": dict(metadata),
            "pause_collection": None, "start_date": start, "status": "active",
            "test_clock": None, "trial_end": None, "trial_start": None,
        }
        self.subscriptions[sub_id] = sub
        return sub

    def _new_invoice(self, sub: dict[str, Any], reason: str, *, paid: bool) -> dict[str, Any]:
        customer = self.customers[sub["customer"]]
        inv_id = new_id("in_")
        number = f"{customer['invoice_prefix']}-{customer['next_invoice_sequence']:04d}"
        customer["next_invoice_sequence"] += 1
        start, end = period_of(sub)
        lines = []
        for item in sub["items"]["data"]:
            price = item["price"]
            lines.append({
                "id": new_id("il_"), "object": "line_item",
                "amount": price["unit_amount"] * item["quantity"], "currency": price["currency"],
                "description": f"{item['quantity']} × {self.product_name(price)} (at "
                               f"{format_amount(price['unit_amount'], price['currency'])} / "
                               f"{price['recurring']['interval']})",
                "invoice": inv_id, "livemode": False, "metadata": {},
                "parent": {"type": "subscription_item_details", "subscription_item_details": {
                    "invoice_item": None, "proration": False, "subscription": sub["id"],
                    "subscription_item": item["id"]}},
                "period": {"end": end, "start": start},
                "pricing": {"type": "price_details", "price_details": {
                    "price": price["id"], "product": price["product"]},
                    "unit_amount_decimal": price["unit_amount_decimal"]},
                "quantity": item["quantity"],
            })
        total = sum(line["amount"] for line in lines)
        invoice = {
            "id": inv_id, "object": "invoice", "amount_due": total,
            "amount_paid": total if paid else 0, "amount_remaining": 0 if paid else total,
            "attempt_count": 1, "attempted": True, "billing_reason": reason,
            "collection_method": "charge_automatically", "created": self.now,
            "currency": sub["currency"], "customer": customer["id"],
            "customer_email": customer["email"], "description": None, "due_date": None,
            "hosted_invoice_url": f"{self.url}/invoice/{inv_id}",
            "invoice_pdf": f"{self.url}/invoice/{inv_id}/pdf",
            "lines": {"object": "list", "data": lines, "has_more": False,
                      "url": f"/v1/invoices/{inv_id}/lines"},
            "livemode": False, "metadata": {},
            "next_payment_attempt": None if paid else self.now + 3 * 24 * 3600,
            "number": number,
            "parent": {"type": "subscription_details", "quote_details": None,
                       "subscription_details": {"metadata": dict(sub["metadata"]),
                                                "subscription": sub["id"]}},
            "period_end": end, "period_start": start, "status": "paid" if paid else "open",
            "status_transitions": {"finalized_at": self.now, "marked_uncollectible_at": None,
                                   "paid_at": self.now if paid else None, "voided_at": None},
            "subtotal": total, "total": total,
        }
        self.invoices[inv_id] = invoice
        sub["latest_invoice"] = inv_id
        return invoice

    def _set_cancel_at_period_end(self, sub: dict[str, Any], flag: bool) -> None:
        if flag == sub["cancel_at_period_end"]:
            return
        sub["cancel_at_period_end"] = flag
        sub["cancel_at"] = period_of(sub)[1] if flag else None
        sub["canceled_at"] = self.now if flag else None
        sub["cancellation_details"]["reason"] = "cancellation_requested" if flag else None

    def _end(self, sub: dict[str, Any], *, reason: str) -> None:
        sub.update(status="canceled", ended_at=self.now, canceled_at=sub["canceled_at"] or self.now)
        sub["cancellation_details"]["reason"] = reason


def period_of(sub: Mapping[str, Any]) -> tuple[int, int]:
    item = sub["items"]["data"][0]
    return int(item["current_period_start"]), int(item["current_period_end"])


def subscription_of(invoice: Mapping[str, Any]) -> str | None:
    parent = invoice.get("parent") or {}
    details = parent.get("subscription_details") or {}
    return details.get("subscription")


def price_specs(prices: Mapping[str, Mapping[str, Any]] | Iterable[Mapping[str, Any]] | None
                ) -> list[tuple[str, dict[str, Any]]]:
    """Constructor ``prices=``: ``{"price_pro": {"unit_amount": 1200, ...}}`` or
    ``[{"id": "price_pro", "unit_amount": 1200, ...}]``."""
    if prices is None:
        return []
    if isinstance(prices, Mapping):
        return [(str(k), dict(v)) for k, v in prices.items()]
    specs = []
    for spec in prices:
        rest = dict(spec)
        specs.append((str(rest.pop("id")), rest))
    return specs
