"""The test controls of the fake Stripe server: what happens on Stripe's side (a customer pays,
a renewal fails, a period ends), each emitting the events real Stripe would."""

from __future__ import annotations

import copy
from typing import Any

from tests.fakes._stripe_model import PERIOD, StripeModel, period_of, subscription_of


class StripeControls(StripeModel):
    """Mixin: ``complete_checkout``, ``fail_renewal``, ``pay_open_invoice``, ``give_up``,
    ``schedule_cancel``, ``end_period``, ``expire_checkout``."""

    def _sub(self, sub_id: str) -> dict[str, Any]:
        sub = self.subscriptions.get(sub_id)
        if sub is None:
            raise KeyError(f"no such subscription: {sub_id!r}")
        return sub

    def _require(self, sub: dict[str, Any], *statuses: str) -> None:
        if sub["status"] not in statuses:
            raise ValueError(f"subscription {sub['id']} is {sub['status']}, expected one of {statuses}")

    def complete_checkout(self, cs_id: str) -> dict[str, Any]:
        """The customer paid on Checkout: subscription active for one period, a paid invoice.

        Events: checkout.session.completed, customer.subscription.created, invoice.paid
        (customer.created first when the session had no customer)."""
        with self._lock:
            session = self.checkout_sessions.get(cs_id)
            if session is None:
                raise KeyError(f"no such checkout session: {cs_id!r}")
            if session["status"] != "open":
                raise ValueError(f"checkout session {cs_id} is {session['status']}")
            if session["customer"] is None:
                customer = self._new_customer(session["customer_email"])
                session["customer"] = customer["id"]
                self._emit("customer.created", customer)
            session.update(status="complete", payment_status="paid")
            if session["mode"] != "subscription":
                if session["mode"] == "setup":
                    session["payment_status"] = "no_payment_required"
                self._emit("checkout.session.completed", session)
            else:
                sub = self._new_subscription(session["customer"], self._line_items[cs_id],
                                             self._sub_metadata.get(cs_id, {}))
                invoice = self._new_invoice(sub, "subscription_create", paid=True)
                session["subscription"] = sub["id"]
                self._emit("checkout.session.completed", session)
                self._emit("customer.subscription.created", sub)
                self._emit("invoice.paid", invoice)
            result = copy.deepcopy(session)
        self._flush()
        return result

    def expire_checkout(self, cs_id: str) -> dict[str, Any]:
        """The session timed out unpaid. Event: checkout.session.expired."""
        with self._lock:
            session = self.checkout_sessions[cs_id]
            if session["status"] != "open":
                raise ValueError(f"checkout session {cs_id} is {session['status']}")
            session.update(status="expired", url=None)
            self._emit("checkout.session.expired", session)
            result = copy.deepcopy(session)
        self._flush()
        return result

    def fail_renewal(self, sub_id: str) -> dict[str, Any]:
        """The clock reaches the period end, the new period's invoice stays open: past_due.

        Events: invoice.payment_failed, customer.subscription.updated."""
        with self._lock:
            sub = self._sub(sub_id)
            self._require(sub, "active", "past_due")
            before = copy.deepcopy(sub)
            self._roll_period(sub)
            invoice = self._new_invoice(sub, "subscription_cycle", paid=False)
            sub["status"] = "past_due"
            self._emit("invoice.payment_failed", invoice)
            self._emit("customer.subscription.updated", sub, before)
            result = copy.deepcopy(sub)
        self._flush()
        return result

    def pay_open_invoice(self, sub_id: str) -> dict[str, Any]:
        """The customer fixed their card: the open invoice is paid, the subscription active.

        Events: invoice.paid, customer.subscription.updated."""
        with self._lock:
            sub = self._sub(sub_id)
            self._require(sub, "active", "past_due", "unpaid")
            invoice = next((i for i in reversed(self.invoices.values())
                            if subscription_of(i) == sub_id and i["status"] == "open"), None)
            if invoice is None:
                raise ValueError(f"subscription {sub_id} has no open invoice")
            before = copy.deepcopy(sub)
            invoice.update(status="paid", amount_paid=invoice["amount_due"], amount_remaining=0,
                           attempt_count=invoice["attempt_count"] + 1, next_payment_attempt=None)
            invoice["status_transitions"]["paid_at"] = self.now
            sub["status"] = "active"
            self._emit("invoice.paid", invoice)
            self._emit("customer.subscription.updated", sub, before)
            result = copy.deepcopy(sub)
        self._flush()
        return result

    def give_up(self, sub_id: str, outcome: str = "canceled") -> dict[str, Any]:
        """Retries are exhausted: cancel (customer.subscription.deleted) or mark unpaid
        (customer.subscription.updated), as the account's dunning setting says."""
        if outcome not in ("canceled", "unpaid"):
            raise ValueError("outcome must be 'canceled' or 'unpaid'")
        with self._lock:
            sub = self._sub(sub_id)
            self._require(sub, "past_due", "unpaid")
            before = copy.deepcopy(sub)
            if outcome == "canceled":
                self._end(sub, reason="payment_failed")
                self._emit("customer.subscription.deleted", sub)
            else:
                sub["status"] = "unpaid"
                self._emit("customer.subscription.updated", sub, before)
            result = copy.deepcopy(sub)
        self._flush()
        return result

    def schedule_cancel(self, sub_id: str) -> dict[str, Any]:
        """The portal's Cancel: ends at the period end. Event: customer.subscription.updated."""
        with self._lock:
            sub = self._sub(sub_id)
            self._require(sub, "active", "past_due", "unpaid", "incomplete")
            before = copy.deepcopy(sub)
            self._set_cancel_at_period_end(sub, True)
            if sub != before:
                self._emit("customer.subscription.updated", sub, before)
            result = copy.deepcopy(sub)
        self._flush()
        return result

    def end_period(self, sub_id: str) -> dict[str, Any]:
        """Move the clock to the period end: a scheduled cancel ends the subscription
        (customer.subscription.deleted), else it renews with a paid invoice (invoice.paid,
        customer.subscription.updated)."""
        with self._lock:
            sub = self._sub(sub_id)
            self._require(sub, "active", "past_due", "unpaid")
            if not sub["cancel_at_period_end"]:
                self._require(sub, "active")
            before = copy.deepcopy(sub)
            self.now = max(self.now, period_of(sub)[1])
            if sub["cancel_at_period_end"]:
                self._end(sub, reason="cancellation_requested")
                self._emit("customer.subscription.deleted", sub)
            else:
                self._roll_period(sub)
                invoice = self._new_invoice(sub, "subscription_cycle", paid=True)
                self._emit("invoice.paid", invoice)
                self._emit("customer.subscription.updated", sub, before)
            result = copy.deepcopy(sub)
        self._flush()
        return result

    def _roll_period(self, sub: dict[str, Any]) -> None:
        end = period_of(sub)[1]
        self.now = max(self.now, end)
        for item in sub["items"]["data"]:
            item["current_period_start"], item["current_period_end"] = end, end + PERIOD
