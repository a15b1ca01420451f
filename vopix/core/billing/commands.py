"""Operator commands for billing (wired into `python -m vopix`):

    python -m vopix billing plans                              plans, limits, prices, people on each
    python -m vopix billing set-plan pro --messages 6000 ...   change a plan (or create one: --name)
    python -m vopix billing comp --email a@b.c --plan pro      give a plan without Stripe (support)
    python -m vopix billing comp --email a@b.c --clear         take it back
    python -m vopix billing sync --email a@b.c                 re-read one customer from Stripe
"""

from __future__ import annotations

import argparse
import sys

MB = 1024 * 1024


def _user_id(email: str) -> int | None:
    from vopix.core import accounts

    user_id = accounts.find_user_id(email)
    if user_id is None:
        print(f"error: no account with the email {email}", file=sys.stderr)
    return user_id


def _plans(_args: argparse.Namespace) -> int:
    from sqlmodel import func, select

    from vopix.core import plans
    from vopix.core.billing import stripe_api
    from vopix.db import session_scope
    from vopix.models import User

    with session_scope() as s:
        people = dict(s.exec(select(User.plan_id, func.count()).group_by(User.plan_id)).all())
    price_of = stripe_api.prices()
    print(f"{'plan':<10} {'name':<12} {'messages':>9} {'AI calls':>9} {'storage MB':>10} {'price':>8}  "
          f"{'Stripe price':<24} people")
    for p in plans.list_plans():
        print(f"{p.id:<10} {p.name:<12} {p.messages_per_month:>9} {p.api_calls_per_month:>9} "
              f"{p.storage_bytes // MB:>10} {p.price_cents / 100:>8.2f}  {price_of.get(p.id, '-'):<24} "
              f"{people.get(p.id, 0)}")
    if not stripe_api.enabled():
        print("billing is off (VOPIX_STRIPE_SECRET_KEY is not set)")
    return 0


def _set_plan(args: argparse.Namespace) -> int:
    from vopix.core import plans

    try:
        plan = plans.save_plan(
            args.plan_id, name=args.name, messages_per_month=args.messages,
            api_calls_per_month=args.api_calls,
            storage_bytes=None if args.storage_mb is None else args.storage_mb * MB,
            price_cents=args.price_cents, stripe_price_id=args.price_id,
            **{name: getattr(args, name) for name in plans.EXTRA_LIMIT_FIELDS},
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"plan {plan.id} ({plan.name}): {plan.messages_per_month} messages, {plan.api_calls_per_month} "
          f"AI calls, {plan.storage_bytes // MB} MB, {plan.price_cents} cents, Stripe price "
          f"{plan.stripe_price_id or '-'}; the limits apply now to everyone on it")
    return 0


def _comp(args: argparse.Namespace) -> int:
    from vopix.core.billing import sync

    user_id = _user_id(args.email)
    if user_id is None:
        return 1
    try:
        result = sync.set_comp(user_id, None if args.clear else args.plan)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{args.email} is on the {result.plan_id} plan now ({'comp removed' if args.clear else 'comped'})")
    return 0


def _sync(args: argparse.Namespace) -> int:
    import stripe

    from vopix.core.billing import stripe_api, sync

    if not stripe_api.enabled():
        print("error: set VOPIX_STRIPE_SECRET_KEY first", file=sys.stderr)
        return 1
    user_id = _user_id(args.email)
    if user_id is None:
        return 1
    try:
        result = sync.sync_user(user_id)
    except stripe.StripeError as exc:
        detail = exc.user_message or "no detail"
        print(f"error: Stripe answered {type(exc).__name__}: {detail}", file=sys.stderr)
        return 1
    if result is None:
        print(f"{args.email} has no Stripe customer yet (never started a checkout)")
        return 0
    print(f"{args.email}: subscription {result.status or 'none'}, plan {result.plan_id}"
          f"{' (changed)' if result.plan_changed else ''}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("billing", help="plans, support comps and Stripe sync")
    bsub = p.add_subparsers(dest="billing_command", required=True)
    q = bsub.add_parser("plans", help="list plans with limits, prices and how many people are on each")
    q.set_defaults(fn=_plans)
    q = bsub.add_parser("set-plan", help="change a plan's limits or Stripe price (or create a plan)")
    q.add_argument("plan_id")
    q.add_argument("--name")
    q.add_argument("--messages", type=int, help="messages per month (0: no limit)")
    q.add_argument("--api-calls", type=int, help="AI calls per month (0: no limit)")
    q.add_argument("--storage-mb", type=int, help="workspace storage in MB (0: no limit)")
    q.add_argument("--price-cents", type=int, help="monthly price shown on the Billing page")
    q.add_argument("--price-id", help="the Stripe price id (VOPIX_STRIPE_PRICES wins over it)")
    for name, about in (
        ("run_seconds_per_month", "script seconds a month (0: no limit)"),
        ("run_wall_seconds", "seconds per script run"), ("run_memory_mb", "memory per script run, MB"),
        ("run_processes", "processes per script run"), ("run_disk_mb", "disk per script run, MB"),
        ("max_active_tasks", "reminders and tasks active at once"),
    ):
        q.add_argument(f"--{name.replace('_', '-')}", dest=name, type=int, help=about)
    q.set_defaults(fn=_set_plan)
    q = bsub.add_parser("comp", help="give a person a plan without Stripe, or take it back")
    q.add_argument("--email", required=True)
    group = q.add_mutually_exclusive_group(required=True)
    group.add_argument("--plan")
    group.add_argument("--clear", action="store_true")
    q.set_defaults(fn=_comp)
    q = bsub.add_parser("sync", help="re-read one person's subscription from Stripe now")
    q.add_argument("--email", required=True)
    q.set_defaults(fn=_sync)
