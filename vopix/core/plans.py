"""Plans and the one place that says which plan, and so which limits, apply to a person.

`user.plan_id` holds the effective plan. Only `set_effective` writes it, from what billing knows
(a plan given by support, else an active, trialing or past-due subscription, else Free); every
limit check (messages, AI calls, storage, and the features to come) reads it through
`limits_of`, on every channel, before the work is done.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, or_, update
from sqlmodel import Session, col, select

from vopix.core.clock import utcnow
from vopix.db import core, session_scope
from vopix.models import Plan, User

FREE = "free"
# Stripe statuses under which the subscribed plan applies. past_due: Stripe is still retrying
# the payment (the grace period); unpaid and canceled drop the plan.
PLAN_KEEPING_STATUSES = frozenset({"active", "trialing", "past_due"})

_PLAN = Plan.__table__  # type: ignore[attr-defined]
_USER = User.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class PlanLimits:
    plan_id: str
    name: str
    messages_per_month: int
    api_calls_per_month: int
    storage_bytes: int
    # Sandboxed script runs (issue 16): seconds a month (0: no limit), and each run's limits.
    run_seconds_per_month: int = 600
    run_wall_seconds: int = 30
    run_memory_mb: int = 256
    run_processes: int = 32
    run_disk_mb: int = 256


RUN_LIMIT_FIELDS = (
    "run_seconds_per_month", "run_wall_seconds", "run_memory_mb", "run_processes", "run_disk_mb",
)


def effective_plan_id(comp_plan_id: str | None, status: str, subscribed_plan_id: str) -> str:
    """Support's plan, else the subscribed plan while Stripe keeps it, else Free."""
    if comp_plan_id:
        return comp_plan_id
    if status in PLAN_KEEPING_STATUSES and subscribed_plan_id:
        return subscribed_plan_id
    return FREE


def subscription_label(comp_plan_id: str | None, status: str) -> str:
    """The subscription status kept on the account (P01)."""
    if comp_plan_id:
        return "comped"
    return status or FREE


def set_effective(s: Session, user_id: int, plan_id: str, status: str) -> bool:
    """Write the person's effective plan and status; True when the plan changed."""
    if s.get(Plan, plan_id) is None:
        plan_id = FREE  # a plan removed from the table (or a price no plan has) gives Free
    user = s.get(User, user_id)
    if user is None:
        return False
    changed = user.plan_id != plan_id
    if changed or user.subscription_status != status:
        s.execute(
            update(User).where(col(User.id) == user_id).values(
                plan_id=plan_id, subscription_status=status[:32], updated_at=utcnow()
            )
        )
    return changed


# The hot path: one statement, built once, that reads the person's plan and Free together.
_PLAN_OF_USER = select(
    _PLAN.c.id,
    _PLAN.c.name,
    _PLAN.c.messages_per_month,
    _PLAN.c.api_calls_per_month,
    _PLAN.c.storage_bytes,
    _PLAN.c.run_seconds_per_month,
    _PLAN.c.run_wall_seconds,
    _PLAN.c.run_memory_mb,
    _PLAN.c.run_processes,
    _PLAN.c.run_disk_mb,
).where(
    or_(
        _PLAN.c.id == select(_USER.c.plan_id).where(_USER.c.id == bindparam("u")).scalar_subquery(),
        _PLAN.c.id == FREE,
    )
)


def limits_of(s: Session, user_id: int) -> PlanLimits:
    """The person's effective plan, else the free one."""
    rows = core(s).execute(_PLAN_OF_USER, {"u": user_id}).all()
    if not rows:
        return PlanLimits(FREE, "Free", 0, 0, 0)
    row = next((r for r in rows if r[0] != FREE), rows[0])
    return PlanLimits(*row)


def plan_for(user_id: int) -> PlanLimits:
    with session_scope() as s:
        return limits_of(s, user_id)


def list_plans() -> list[Plan]:
    with session_scope() as s:
        return list(s.exec(select(Plan).order_by(col(Plan.price_cents), col(Plan.id))))


def get_plan(plan_id: str) -> Plan | None:
    with session_scope() as s:
        return s.get(Plan, plan_id)


# Per-plan limits besides messages, AI calls and storage: script runs and active tasks.
EXTRA_LIMIT_FIELDS = (*RUN_LIMIT_FIELDS, "max_active_tasks")


def save_plan(plan_id: str, **values: str | int | None) -> Plan:
    """Create or change a plan (operator command, staff console); limits apply at once to
    everyone on it. Keys: name, messages_per_month, api_calls_per_month, storage_bytes,
    price_cents, stripe_price_id and EXTRA_LIMIT_FIELDS; None leaves a value as it is."""
    with session_scope() as s:
        plan = save_plan_in(s, plan_id, **values)
        s.flush()
        s.refresh(plan)
        s.expunge(plan)
        return plan


PLAN_FIELDS = (
    "name", "messages_per_month", "api_calls_per_month", "storage_bytes", "price_cents",
    "stripe_price_id", *EXTRA_LIMIT_FIELDS,
)


def save_plan_in(s: Session, plan_id: str, **values: str | int | None) -> Plan:
    """save_plan in the caller's transaction."""
    unknown = set(values) - set(PLAN_FIELDS)
    if unknown:
        raise TypeError(f"unknown plan fields: {sorted(unknown)}")
    for key, value in values.items():
        if isinstance(value, int) and value < 0:
            raise ValueError(f"{key.replace('_', ' ')} cannot be negative")
    plan = s.get(Plan, plan_id)
    if plan is None:
        if not values.get("name"):
            raise ValueError(f"there is no plan {plan_id!r}; give --name to create it")
        plan = Plan(id=plan_id, name=str(values["name"]))
    for key, value in values.items():
        if value is not None:
            setattr(plan, key, value)
    s.add(plan)
    return plan
