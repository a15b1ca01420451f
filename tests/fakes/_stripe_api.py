"""The v1 API endpoints of the fake Stripe server: parameters in, live objects out (the HTTP
layer in ``tests/fakes/stripe.py`` copies and expands them)."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from tests.fakes._stripe_model import StripeModel
from tests.fakes._stripe_wire import (
    StripeError,
    as_bool,
    as_int,
    as_list,
    created_matches,
    list_object,
    missing,
    new_id,
    no_such,
)

Route = tuple[str, re.Pattern[str], Callable[..., dict[str, Any]], frozenset[str]]

# The parameters each endpoint accepts (Stripe's own lists): any other -> "Received unknown
# parameter". Accepted but not modelled ones are ignored.
_LIST = frozenset({"limit", "starting_after", "ending_before", "expand", "created"})
_P_CUSTOMER = frozenset({
    "address", "balance", "cash_balance", "description", "email", "expand", "invoice_prefix",
    "invoice_settings", "metadata", "name", "next_invoice_sequence", "payment_method", "phone",
    "preferred_locales", "shipping", "source", "tax", "tax_exempt", "tax_id_data", "test_clock",
    "validate", "business_name", "individual_name", "default_source"})
_P_CHECKOUT = frozenset({
    "adaptive_pricing", "after_expiration", "allow_promotion_codes", "automatic_tax",
    "billing_address_collection", "branding_settings", "cancel_url", "client_reference_id",
    "consent_collection", "currency", "custom_fields", "custom_text", "customer",
    "customer_creation", "customer_email", "customer_update", "discounts",
    "excluded_payment_method_types", "expand", "expires_at", "invoice_creation", "line_items",
    "locale", "metadata", "mode", "name_collection", "optional_items", "origin_context",
    "payment_intent_data", "payment_method_collection", "payment_method_configuration",
    "payment_method_data", "payment_method_options", "payment_method_types", "permissions",
    "phone_number_collection", "redirect_on_completion", "return_url",
    "saved_payment_method_options", "setup_intent_data", "shipping_address_collection",
    "shipping_options", "submit_type", "subscription_data", "success_url", "tax_id_collection",
    "ui_mode", "wallet_options"})
_P_PORTAL = frozenset({"configuration", "customer", "customer_account", "expand", "flow_data",
                       "locale", "on_behalf_of", "return_url"})
_P_SUB_UPDATE = frozenset({
    "add_invoice_items", "application_fee_percent", "automatic_tax", "billing_cycle_anchor",
    "billing_mode", "billing_thresholds", "cancel_at", "cancel_at_period_end",
    "cancellation_details", "collection_method", "days_until_due", "default_payment_method",
    "default_source", "default_tax_rates", "description", "discounts", "expand",
    "invoice_settings", "items", "metadata", "off_session", "on_behalf_of", "pause_collection",
    "payment_behavior", "payment_settings", "pending_invoice_item_interval",
    "proration_behavior", "proration_date", "transfer_data", "trial_end", "trial_from_plan"})
_PRORATIONS = ("always_invoice", "create_prorations", "none")
_EXPAND = frozenset({"expand"})


class StripeEndpoints(StripeModel):
    """Mixin: one method per endpoint; :meth:`_routes_table` maps method and path to them."""

    def _routes_table(self) -> list[Route]:
        get, post, delete = "GET", "POST", "DELETE"
        return [
            (post, re.compile(r"/v1/customers"), self._create_customer, _P_CUSTOMER),
            (get, re.compile(r"/v1/customers"), self._list_customers, _LIST | {"email", "test_clock"}),
            (get, re.compile(r"/v1/customers/([^/]+)"), self._retrieve("customer", self.customers), _EXPAND),
            (post, re.compile(r"/v1/customers/([^/]+)"), self._update_customer, _P_CUSTOMER),
            (delete, re.compile(r"/v1/customers/([^/]+)"), self._delete_customer, frozenset()),
            (post, re.compile(r"/v1/checkout/sessions"), self._create_checkout, _P_CHECKOUT),
            (get, re.compile(r"/v1/checkout/sessions/([^/]+)"),
             self._retrieve("checkout.session", self.checkout_sessions), _EXPAND),
            (post, re.compile(r"/v1/checkout/sessions/([^/]+)/expire"), self._expire_checkout, _EXPAND),
            (post, re.compile(r"/v1/billing_portal/sessions"), self._create_portal, _P_PORTAL),
            (get, re.compile(r"/v1/subscriptions"), self._list_subscriptions,
             _LIST | {"customer", "status", "price", "collection_method", "automatic_tax",
                      "current_period_end", "current_period_start", "test_clock", "customer_account"}),
            (get, re.compile(r"/v1/subscriptions/([^/]+)"),
             self._retrieve("subscription", self.subscriptions), _EXPAND),
            (post, re.compile(r"/v1/subscriptions/([^/]+)"), self._update_subscription, _P_SUB_UPDATE),
            (delete, re.compile(r"/v1/subscriptions/([^/]+)"), self._cancel_subscription,
             frozenset({"cancellation_details", "expand", "invoice_now", "prorate"})),
            (get, re.compile(r"/v1/invoices"), self._list_invoices,
             _LIST | {"customer", "subscription", "status", "collection_method", "due_date",
                      "customer_account"}),
            (get, re.compile(r"/v1/invoices/([^/]+)"), self._retrieve("invoice", self.invoices), _EXPAND),
            (get, re.compile(r"/v1/prices"), self._list_prices,
             _LIST | {"active", "currency", "lookup_keys", "product", "type", "recurring"}),
            (get, re.compile(r"/v1/prices/([^/]+)"), self._retrieve("price", self.prices), _EXPAND),
            (get, re.compile(r"/v1/products/([^/]+)"), self._retrieve("product", self.products), _EXPAND),
            (get, re.compile(r"/v1/events"), self._list_events,
             _LIST | {"type", "types", "delivery_success"}),
            (get, re.compile(r"/v1/events/([^/]+)"), self._retrieve("event", self.events_by_id), _EXPAND),
        ]

    def _retrieve(self, kind: str, store: dict[str, dict[str, Any]]
                  ) -> Callable[[dict[str, Any], str], dict[str, Any]]:
        def retrieve(params: dict[str, Any], object_id: str) -> dict[str, Any]:
            obj = store.get(object_id)
            if obj is None:
                raise no_such(kind, object_id)
            return obj
        return retrieve

    def _create_customer(self, params: dict[str, Any]) -> dict[str, Any]:
        customer = self._new_customer(params.get("email") or None, params.get("name") or None,
                                      _metadata(params.get("metadata"), {}))
        for field in ("description", "phone"):
            if params.get(field):
                customer[field] = params[field]
        self._emit("customer.created", customer)
        return customer

    def _update_customer(self, params: dict[str, Any], customer_id: str) -> dict[str, Any]:
        customer = self._retrieve("customer", self.customers)(params, customer_id)
        before = copy.deepcopy(customer)
        for field in ("email", "name", "description", "phone"):
            if field in params:
                customer[field] = params[field] or None
        if "metadata" in params:
            customer["metadata"] = _metadata(params["metadata"], customer["metadata"])
        if customer != before:
            self._emit("customer.updated", customer, before)
        return customer

    def _delete_customer(self, params: dict[str, Any], customer_id: str) -> dict[str, Any]:
        """As Stripe: the customer's live subscriptions end at once, and the customer is kept
        only as a deleted stub (retrieving it says deleted; a second delete is resource_missing)."""
        customer = self._retrieve("customer", self.customers)(params, customer_id)
        if customer.get("deleted"):
            raise no_such("customer", customer_id)
        for sub in self.subscriptions.values():
            if sub["customer"] == customer_id and sub["status"] != "canceled":
                self._end(sub, reason="cancellation_requested")
                self._emit("customer.subscription.deleted", sub)
        stub = {"id": customer_id, "object": "customer", "deleted": True}
        self.customers[customer_id] = stub
        return stub

    def _list_customers(self, params: dict[str, Any]) -> dict[str, Any]:
        email = params.get("email")
        items = [c for c in self.customers.values()
                 if not c.get("deleted") and (email is None or c["email"] == email)
                 and created_matches(c["created"], params.get("created"))]
        return list_object(items, params, "/v1/customers")

    def _create_checkout(self, params: dict[str, Any]) -> dict[str, Any]:
        mode = params.get("mode")
        if not mode:
            raise missing("mode")
        if mode not in ("payment", "setup", "subscription"):
            raise StripeError(400, "Invalid mode: must be one of payment, setup, or subscription",
                              param="mode")
        customer = params.get("customer") or None
        if customer is not None and customer not in self.customers:
            raise no_such("customer", customer, param="customer")
        if customer is not None and params.get("customer_email"):
            raise StripeError(400, "You may only specify one of these parameters: customer, "
                                   "customer_email.", param="customer_email")
        items: list[tuple[str, int]] = []
        for i, item in enumerate(as_list(params.get("line_items"), "line_items")):
            price_id = item.get("price") if isinstance(item, dict) else None
            if not price_id:
                raise missing(f"line_items[{i}][price]")
            if price_id not in self.prices:
                raise no_such("price", price_id, param=f"line_items[{i}][price]")
            items.append((price_id, as_int(item.get("quantity", 1), f"line_items[{i}][quantity]")))
        if mode != "setup" and not items:
            raise missing("line_items")
        recurring = [self.prices[p]["recurring"] is not None for p, _ in items]
        if mode == "subscription" and not any(recurring):
            raise StripeError(400, "You must provide at least one recurring price in `subscription` "
                                   "mode when using prices.", param="line_items")
        if mode == "payment" and any(recurring):
            raise StripeError(400, "You specified `payment` mode but passed a recurring price. Either "
                                   "switch to `subscription` mode or use only one-time prices.",
                              param="line_items")
        total = sum(self.prices[p]["unit_amount"] * q for p, q in items)
        cs_id = new_id("cs_test_", 58)
        sub_data = params.get("subscription_data") or {}
        session = {
            "id": cs_id, "object": "checkout.session", "amount_subtotal": total,
            "amount_total": total, "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"), "created": self.now,
            "currency": self.prices[items[0][0]]["currency"] if items else None,
            "customer": customer, "customer_email": params.get("customer_email"),
            "expires_at": as_int(params.get("expires_at", self.now + 24 * 3600), "expires_at"),
            "invoice": None, "livemode": False, "locale": params.get("locale"),
            "metadata": _metadata(params.get("metadata"), {}), "mode": mode,
            "payment_intent": None,
            "payment_status": "no_payment_required" if mode == "setup" else "unpaid",
            "setup_intent": None, "status": "open", "subscription": None,
            "success_url": params.get("success_url"), "ui_mode": params.get("ui_mode", "hosted"),
            "url": f"{self.url}/pay/{cs_id}",
        }
        self.checkout_sessions[cs_id] = session
        self._line_items[cs_id] = items
        self._sub_metadata[cs_id] = _metadata(sub_data.get("metadata"), {})
        return session

    def _expire_checkout(self, params: dict[str, Any], cs_id: str) -> dict[str, Any]:
        session = self._retrieve("checkout.session", self.checkout_sessions)(params, cs_id)
        if session["status"] != "open":
            raise StripeError(400, f"Only Checkout Sessions with a status in [\"open\"] can be "
                                   f"expired. This Checkout Session has a status of \"{session['status']}\".")
        session.update(status="expired", url=None)
        self._emit("checkout.session.expired", session)
        return session

    def _create_portal(self, params: dict[str, Any]) -> dict[str, Any]:
        customer = params.get("customer")
        if not customer:
            raise missing("customer")
        if customer not in self.customers:
            raise no_such("customer", customer, param="customer")
        bps_id = new_id("bps_")
        session = {
            "id": bps_id, "object": "billing_portal.session", "configuration": "bpc_fakeDefault",
            "created": self.now, "customer": customer, "flow": None, "livemode": False,
            "locale": params.get("locale"), "on_behalf_of": None,
            "return_url": params.get("return_url"), "url": f"{self.url}/portal/{bps_id}",
        }
        self.portal_sessions[bps_id] = session
        return session

    def _list_subscriptions(self, params: dict[str, Any]) -> dict[str, Any]:
        status = params.get("status")
        statuses = ("active", "past_due", "unpaid", "canceled", "incomplete",
                    "incomplete_expired", "trialing", "paused", "all", "ended")
        if status is not None and status not in statuses:
            raise StripeError(400, f"Invalid status: must be one of {', '.join(statuses)}",
                              param="status")

        def wanted(sub: dict[str, Any]) -> bool:
            if status == "all":
                return True
            if status == "ended":
                return sub["status"] in ("canceled", "incomplete_expired")
            if status is not None:
                return bool(sub["status"] == status)
            return bool(sub["status"] not in ("canceled", "incomplete_expired"))

        price = params.get("price")
        items = [s for s in self.subscriptions.values()
                 if wanted(s) and params.get("customer") in (None, s["customer"])
                 and (price is None or any(i["price"]["id"] == price for i in s["items"]["data"]))
                 and created_matches(s["created"], params.get("created"))]
        return list_object(items, params, "/v1/subscriptions")

    def _update_subscription(self, params: dict[str, Any], sub_id: str) -> dict[str, Any]:
        sub = self._retrieve("subscription", self.subscriptions)(params, sub_id)
        if sub["status"] == "canceled" and set(params) - {"metadata", "cancellation_details", "expand"}:
            raise StripeError(400, "A canceled subscription can only update its "
                                   "cancellation_details and metadata.")
        proration = params.get("proration_behavior", "create_prorations")
        if proration not in _PRORATIONS:
            raise StripeError(400, "Invalid proration_behavior: must be one of always_invoice, "
                                   "create_prorations, or none", param="proration_behavior")
        before = copy.deepcopy(sub)
        for i, change in enumerate(as_list(params.get("items"), "items")):
            self._change_item(sub, i, change)
        if "cancel_at_period_end" in params:
            self._set_cancel_at_period_end(
                sub, as_bool(params["cancel_at_period_end"], "cancel_at_period_end"))
        if "metadata" in params:
            sub["metadata"] = _metadata(params["metadata"], sub["metadata"])
        if sub != before:
            self._emit("customer.subscription.updated", sub, before)
        return sub

    def _change_item(self, sub: dict[str, Any], i: int, change: Any) -> None:
        if not isinstance(change, dict):
            raise StripeError(400, f"Invalid object: items[{i}]", param=f"items[{i}]")
        price_id = change.get("price")
        if price_id is not None and price_id not in self.prices:
            raise no_such("price", price_id, param=f"items[{i}][price]")
        if price_id is not None and self.prices[price_id]["recurring"] is None:
            raise StripeError(400, "The price specified is set to `type=one_time` but this field "
                                   "only accepts prices with `type=recurring`.", param=f"items[{i}][price]")
        data = sub["items"]["data"]
        if "id" not in change:
            if price_id is None:
                raise missing(f"items[{i}][price]")
            start, end = data[0]["current_period_start"], data[0]["current_period_end"]
            quantity = as_int(change.get("quantity", 1), f"items[{i}][quantity]")
            data.append(self._new_item(sub["id"], price_id, quantity, start, end))
            return
        item = next((it for it in data if it["id"] == change["id"]), None)
        if item is None:
            raise StripeError(400, f"Invalid subscription item: '{change['id']}' does not belong "
                                   f"to subscription '{sub['id']}'", param=f"items[{i}][id]")
        if as_bool(change.get("deleted", "false"), f"items[{i}][deleted]"):
            if len(data) == 1:
                raise StripeError(400, "A subscription must have at least one active plan.",
                                  param=f"items[{i}][deleted]")
            data.remove(item)
            return
        if price_id is not None:
            item["price"] = copy.deepcopy(self.prices[price_id])
        if "quantity" in change:
            item["quantity"] = as_int(change["quantity"], f"items[{i}][quantity]")

    def _cancel_subscription(self, params: dict[str, Any], sub_id: str) -> dict[str, Any]:
        sub = self._retrieve("subscription", self.subscriptions)(params, sub_id)
        if sub["status"] == "canceled":
            raise no_such("subscription", sub_id)
        sub["canceled_at"] = None
        self._end(sub, reason="cancellation_requested")
        self._emit("customer.subscription.deleted", sub)
        return sub

    def _list_invoices(self, params: dict[str, Any]) -> dict[str, Any]:
        items = [i for i in self.invoices.values()
                 if params.get("customer") in (None, i["customer"])
                 and params.get("status") in (None, i["status"])
                 and params.get("subscription") in (
                     None, i["parent"]["subscription_details"]["subscription"])
                 and created_matches(i["created"], params.get("created"))]
        return list_object(items, params, "/v1/invoices")

    def _list_prices(self, params: dict[str, Any]) -> dict[str, Any]:
        keys = as_list(params.get("lookup_keys"), "lookup_keys")
        items = [p for p in self.prices.values()
                 if (not keys or p["lookup_key"] in keys)
                 and params.get("product") in (None, p["product"])]
        return list_object(items, params, "/v1/prices")

    def _list_events(self, params: dict[str, Any]) -> dict[str, Any]:
        types = as_list(params.get("types"), "types") or (
            [params["type"]] if params.get("type") else [])
        items = [e for e in self.events
                 if (not types or e["type"] in types)
                 and created_matches(e["created"], params.get("created"))]
        return list_object(items, params, "/v1/events")


def _metadata(value: Any, current: dict[str, str]) -> dict[str, str]:
    """Stripe's metadata update: ``""`` clears all, a key set to ``""`` is removed."""
    if value in (None, ""):
        return {} if value == "" else dict(current)
    if not isinstance(value, dict):
        raise StripeError(400, "Invalid object", param="metadata")
    merged = dict(current)
    for key, item in value.items():
        if item == "":
            merged.pop(key, None)
        else:
            merged[key] = str(item)
    return merged
