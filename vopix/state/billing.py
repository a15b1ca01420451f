"""Billing page: the plan and its use, upgrades through Stripe Checkout, plan switches, the
Customer Portal and the invoices. Stripe's pages take every payment detail (P21)."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import reflex as rx
import stripe

from vopix.core.agent.profile import timezone_of
from vopix.core.billing import checkout, overview
from vopix.core.billing.stripe_api import BillingOff
from vopix.core.clock import local_time
from vopix.core.plans import PLAN_KEEPING_STATUSES
from vopix.core.workspace.base import human_size
from vopix.state.plan_text import amount as _amount
from vopix.state.plan_text import limit as _limit
from vopix.state.plan_text import price as _money
from vopix.state.plan_text import storage as _storage
from vopix.state.session import REFRESH_SCRIPT, Reply, SessionState, for_user

log = logging.getLogger("vopix.state.billing")
STRIPE_DOWN = "Stripe could not be reached just now; nothing was changed. Try again in a moment."


def _go(url: str) -> rx.event.EventSpec:
    """Leave for Stripe's page in this tab (rx.redirect would open an external page in a new one)."""
    return rx.call_script(f"window.location.assign({json.dumps(url)})")


# Back from Checkout: drop ?checkout=... from the address, so a reload does not thank again.
CLEAN_URL_SCRIPT = "window.history.replaceState(window.history.state, '', window.location.pathname)"


class BillingState(SessionState):
    enabled: bool = True
    plan_id: str = ""
    plan_name: str = ""
    status_text: str = ""
    status_level: str = "info"
    messages_text: str = ""
    calls_text: str = ""
    storage_text: str = ""
    includes: list[str] = []
    has_customer: bool = False
    has_subscription: bool = False
    plan_from_stripe: bool = False  # the subscription gives the plan (not unpaid, incomplete, ...)
    cancel_scheduled: bool = False
    offers: list[dict[str, str]] = []
    invoices: list[dict[str, str]] = []
    invoices_state: str = "loading"  # loading | shown | failed
    switch_to: str = ""  # the plan a switch asks to confirm
    error: str = ""
    message: str = ""
    working: bool = False

    async def _fill(self, user_id: int) -> overview.Overview:
        view = await asyncio.to_thread(overview.overview, user_id)
        zone = await asyncio.to_thread(timezone_of, user_id)
        limits = view.limits
        self.enabled = view.enabled
        self.plan_id, self.plan_name = limits.plan_id, limits.name
        self.has_customer, self.has_subscription = view.has_customer, view.has_subscription
        self.cancel_scheduled = view.cancel_at_period_end
        # Only a subscription that gives its plan (core/plans.py) can switch; an unpaid or
        # unconfirmed one is fixed in the portal.
        switchable = view.has_subscription and view.status in PLAN_KEEPING_STATUSES
        self.plan_from_stripe = switchable
        when = local_time(view.period_end, zone)[:10] if view.period_end else ""
        self.status_level = "info"
        if view.comped:
            self.status_text = f"Your {limits.name} plan was given to you by VOPIX support."
        elif view.status == "past_due":
            self.status_level = "error"
            self.status_text = (
                "Your last payment failed. Stripe is retrying and your plan stays meanwhile: update "
                "your payment method with Manage billing to keep it."
            )
        elif view.status == "unpaid":
            # Still a live subscription, but it gives no plan: never "Active" here.
            self.status_level = "error"
            self.status_text = (
                "Stripe could not collect your payment: you are on Free until it is paid. Pay the "
                "open invoice with Manage billing."
            )
        elif view.cancel_at_period_end and when:
            self.status_level = "warning"
            self.status_text = f"Cancelled: your {limits.name} plan stays until {when}, then moves to Free."
        elif view.status in ("active", "trialing") and when:
            self.status_text = f"Active: renews on {when}."
        elif view.status == "incomplete":
            self.status_level = "warning"
            self.status_text = (
                "Stripe has not confirmed your first payment yet; your plan starts once it does."
            )
        elif view.status == "paused":
            self.status_level = "warning"
            self.status_text = "Your subscription is paused: you are on Free until it resumes."
        else:
            self.status_text = "You are on the Free plan."
        self.includes = [
            _limit(limits.messages_per_month, "messages a month"),
            _limit(limits.api_calls_per_month, "AI calls a month"),
            f"{_storage(limits.storage_bytes)} of workspace storage",
        ]
        self.messages_text = _used(view.month.messages, limits.messages_per_month, "messages")
        self.calls_text = _used(view.month.api_calls, limits.api_calls_per_month, "AI calls")
        self.storage_text = (
            f"{human_size(view.storage_used)} of {_storage(limits.storage_bytes)} storage used"
        )
        self.offers = [
            {
                "id": o.plan_id,
                "name": o.name,
                "price": _money(o.price_cents),
                "messages": _limit(o.messages_per_month, "messages"),
                "calls": _limit(o.api_calls_per_month, "AI calls"),
                "storage": _storage(o.storage_bytes),
                "current": "yes" if o.current else "",
                # What its button does: subscribe (Checkout), switch (the live subscription), or none.
                "action": (
                    "" if o.current or not o.buyable
                    else "switch" if switchable
                    else "" if view.has_subscription
                    else "subscribe"
                ),
                "label": (f"Switch to {o.name}" if view.has_subscription else f"Upgrade to {o.name}"),
            }
            for o in view.offers
        ]
        return view

    @rx.event
    @for_user
    async def load(self, user_id: int) -> Reply:
        self.error = self.message = ""
        self.switch_to = ""
        self.working = False
        returned = str(self.router.url.query_parameters.get("checkout", ""))
        if returned == "cancelled":
            self.message = "Checkout was cancelled; nothing was charged."
        # Back from Checkout or the portal: read the subscription now instead of waiting for the
        # webhook, which may come later (one API call; none for a person who never subscribed).
        try:
            await asyncio.to_thread(checkout.sync.sync_user, user_id)
        except (stripe.StripeError, BillingOff):
            log.warning("billing: could not re-read the subscription; showing what is stored")
        view = await self._fill(user_id)
        if returned and returned != "cancelled":
            self.message = (
                f"Thank you: you are on the {self.plan_name} plan now."
                if view.status in ("active", "trialing")
                else "Stripe has not confirmed your payment yet; this page shows your new plan once it does."
            )
        self.invoices_state = "loading"
        events: list[Any] = [rx.call_script(REFRESH_SCRIPT)]
        if returned:
            events.append(rx.call_script(CLEAN_URL_SCRIPT))
        return [*events, BillingState.load_invoices]

    @rx.event
    @for_user
    async def load_invoices(self, user_id: int) -> Reply:
        if not self.enabled or not self.has_customer:
            self.invoices, self.invoices_state = [], "shown"
            return None
        try:
            found = await asyncio.to_thread(checkout.invoices, user_id)
        except (stripe.StripeError, BillingOff):
            self.invoices_state = "failed"
            return None
        zone = await asyncio.to_thread(timezone_of, user_id)
        self.invoices = [
            {
                "number": inv.number,
                "date": local_time(inv.created, zone)[:10],
                "amount": _amount(inv.amount_cents, inv.currency),
                "status": inv.status.capitalize(),
                "url": inv.url,
            }
            for inv in found
        ]
        self.invoices_state = "shown"
        return None

    @rx.event
    @for_user
    async def choose(self, user_id: int, plan_id: str) -> Reply:
        """A plan's button: Checkout for a first subscription, a confirmation for a switch."""
        self.error = self.message = ""
        offer = next((o for o in self.offers if o["id"] == plan_id), None)
        if offer is None or not offer["action"]:
            self.error = "That plan cannot be chosen here."
            return None
        if offer["action"] == "switch":
            self.switch_to = plan_id
            return None
        self.working = True
        try:
            url = await asyncio.to_thread(checkout.start_checkout, user_id, plan_id)
        except checkout.BillingError as exc:
            self.working, self.error = False, str(exc)
            await self._fill(user_id)
            return None
        except (stripe.StripeError, BillingOff):
            self.working, self.error = False, STRIPE_DOWN
            return None
        return _go(url)

    @rx.event
    def cancel_switch(self) -> None:
        self.switch_to = ""

    @rx.event
    @for_user
    async def confirm_switch(self, user_id: int) -> Reply:
        plan_id, self.switch_to = self.switch_to, ""
        if await self._switch(user_id, plan_id):
            self.message = f"Done: you are on the {self.plan_name} plan now; Stripe prorates the difference."
        return BillingState.load_invoices

    @rx.event
    @for_user
    async def keep_plan(self, user_id: int) -> Reply:
        """Take back a scheduled cancellation."""
        if await self._switch(user_id, self.plan_id):
            self.message = f"Your {self.plan_name} plan continues; it renews as before."
        return None

    async def _switch(self, user_id: int, plan_id: str) -> bool:
        """Move the subscription to `plan_id` (the current one: take back a cancellation), then
        show what Stripe says; False with the reason shown when it did not happen."""
        self.error = self.message = ""
        try:
            await asyncio.to_thread(checkout.switch_plan, user_id, plan_id)
        except checkout.BillingError as exc:
            self.error = str(exc)
        except (stripe.StripeError, BillingOff):
            self.error = STRIPE_DOWN
        await self._fill(user_id)
        return not self.error

    @rx.event
    @for_user
    async def manage(self, user_id: int) -> Reply:
        self.error = self.message = ""
        try:
            url = await asyncio.to_thread(checkout.portal_url, user_id)
        except checkout.BillingError as exc:
            self.error = str(exc)
            return None
        except (stripe.StripeError, BillingOff):
            self.error = STRIPE_DOWN
            return None
        return _go(url)

    @rx.var
    def switch_question(self) -> str:
        name = next((o["name"] for o in self.offers if o["id"] == self.switch_to), "")
        return f"Switch to {name} now? Stripe charges or credits the difference for the rest of this period."


def _used(used: int, limit: int, unit: str) -> str:
    if not limit:
        return f"{used:,} {unit} this month (no limit)"
    return f"{used:,} of {limit:,} {unit} used this month"
