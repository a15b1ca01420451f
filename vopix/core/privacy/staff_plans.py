"""Admins manage plans in the staff console: create a plan or change its limits and price.

A change applies at once to everyone on the plan (limits are read from the plan table on every
check). Each save is one transaction with its audit row (action `edit_plan`, no subject: a plan
is nobody's account), whose detail lists what changed. A price shown to people must be the
price Stripe charges: when billing is on and the plan has a Stripe price, the price is read
from Stripe and a mismatch is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from vopix.core import plans
from vopix.core.privacy import audit
from vopix.core.privacy.audit import Action
from vopix.core.privacy.staff import StaffError, require
from vopix.db import session_scope
from vopix.models import Plan

MB = 1024 * 1024
PLAN_ID = re.compile(r"^[a-z][a-z0-9_-]{1,31}$")
PRICE_ID = re.compile(r"^price_[A-Za-z0-9_]{1,100}$")
MAX_COUNT = 1_000_000_000


@dataclass(frozen=True)
class PlanField:
    key: str  # the form field's name
    label: str
    column: str  # the Plan column it sets
    kind: str  # count | mb | money | text
    hint: str = ""


FIELDS = (
    PlanField("name", "Name", "name", "text", "Shown on the Billing page."),
    PlanField("price", "Price per month (EUR)", "price_cents", "money", "0 for a free plan."),
    PlanField("stripe_price_id", "Stripe price id", "stripe_price_id", "text",
              "The recurring monthly price in Stripe that Checkout charges (price_...)."),
    PlanField("messages_per_month", "Messages a month", "messages_per_month", "count", "0: no limit."),
    PlanField("api_calls_per_month", "AI calls a month", "api_calls_per_month", "count", "0: no limit."),
    PlanField("storage_mb", "Workspace storage (MB)", "storage_bytes", "mb", "0: no limit."),
    PlanField("run_seconds_per_month", "Script seconds a month", "run_seconds_per_month", "count",
              "0: no limit."),
    PlanField("run_wall_seconds", "Seconds per script run", "run_wall_seconds", "count"),
    PlanField("run_memory_mb", "Memory per script run (MB)", "run_memory_mb", "count"),
    PlanField("run_processes", "Processes per script run", "run_processes", "count"),
    PlanField("run_disk_mb", "Disk per script run (MB)", "run_disk_mb", "count"),
    PlanField("max_active_tasks", "Active tasks at once", "max_active_tasks", "count"),
)
# Per-run limits of 0 would make every run fail at once: each must be at least 1.
AT_LEAST_ONE = frozenset({"run_wall_seconds", "run_memory_mb", "run_processes", "run_disk_mb"})


def form_values(plan: Plan | None) -> dict[str, str]:
    """A plan as the edit form shows it (empty for a new plan)."""
    if plan is None:
        return {"id": "", **{f.key: "" for f in FIELDS}}
    values = {"id": plan.id}
    for f in FIELDS:
        raw = getattr(plan, f.column)
        values[f.key] = (f"{Decimal(raw) / 100:.2f}" if f.kind == "money"
                         else str(raw // MB) if f.kind == "mb" else str(raw))
    return values


def _parse(f: PlanField, raw: str) -> str | int:
    text = raw.strip()
    if f.kind == "text":
        if f.key == "name" and not text:
            raise StaffError("Give the plan a name.")
        if f.key == "name" and len(text) > 60:
            raise StaffError("Keep the name under 60 characters.")
        if f.key == "stripe_price_id" and text and not PRICE_ID.match(text):
            raise StaffError("A Stripe price id looks like price_1AbC... (or leave it empty).")
        return text
    if f.kind == "money":
        try:
            amount = Decimal(text or "0")
        except InvalidOperation:
            raise StaffError(f"{f.label}: give an amount such as 12.00.") from None
        if amount < 0 or amount != amount.quantize(Decimal("0.01")) or amount > 100_000:
            raise StaffError(f"{f.label}: give an amount such as 12.00 (0 to 100000, cents at most).")
        return int(amount * 100)
    if not text.isdigit() or int(text) > MAX_COUNT:
        raise StaffError(f"{f.label}: give a whole number, 0 or more.")
    value = int(text)
    if f.column in AT_LEAST_ONE and value < 1:
        raise StaffError(f"{f.label}: at least 1.")
    return value * MB if f.kind == "mb" else value


def parse_form(form: dict[str, Any]) -> dict[str, str | int]:
    """Plan column -> value from the form; StaffError (safe to show) on the first bad field."""
    return {f.column: _parse(f, str(form.get(f.key, ""))) for f in FIELDS}


def _changes(before: Plan | None, after: dict[str, str | int]) -> str:
    if before is None:
        return "created"
    words = []
    for f in FIELDS:
        old, new = getattr(before, f.column), after[f.column]
        if old != new:
            words.append(f"{f.key} {old}->{new}")
    return ", ".join(words) or "no change"


def _check_stripe_price(plan_id: str, price_id: str, cents: int) -> None:
    """The price Stripe charges for the plan must be the one the Billing page shows."""
    from vopix.core.billing import stripe_api

    effective = stripe_api.settings_price(plan_id) or price_id
    if not stripe_api.enabled() or not effective:
        return
    found = stripe_api.monthly_amount(effective)
    if found is None:
        raise StaffError(f"Stripe has no recurring monthly price {effective}.")
    if found != cents:
        raise StaffError(f"Stripe charges {found / 100:.2f} a month for {effective}, not {cents / 100:.2f}: "
                         "create a price in Stripe with the new amount and give its id here.")


def save(staff_user_id: int, plan_id: str, form: dict[str, Any], reason: str) -> Plan:
    """Admins: create the plan `plan_id` or change it to what the form says."""
    role = require(staff_user_id, admin=True)
    why = audit.checked_reason(reason)
    plan_id = plan_id.strip().lower()
    if not PLAN_ID.match(plan_id):
        raise StaffError("A plan id is 2 to 32 lowercase letters, digits, - or _, starting with a letter.")
    values = parse_form(form)
    _check_stripe_price(plan_id, str(values["stripe_price_id"]), int(values["price_cents"]))
    with session_scope() as s:
        before = s.get(Plan, plan_id)
        detail = f"plan {plan_id}: {_changes(before, values)}"
        plan = plans.save_plan_in(s, plan_id, **values)
        audit.record(s, staff_user_id=staff_user_id, role=role, subject_user_id=None,
                     action=Action.EDIT_PLAN, reason=why, detail=detail)
        s.flush()
        s.refresh(plan)
        s.expunge(plan)
        return plan
