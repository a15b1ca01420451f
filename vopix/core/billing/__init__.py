"""Billing through Stripe (P11, P21): customers, Checkout, the Customer Portal, webhooks and the
sync that derives a person's plan from their subscription. No card data ever reaches VOPIX."""

from __future__ import annotations

from datetime import datetime, timedelta


def _reconcile(now: datetime) -> int:
    from vopix.core.billing import stripe_api, sync

    return sync.reconcile_due(now) if stripe_api.enabled() else 0


def install() -> None:
    from vopix.core import jobs
    from vopix.core.billing import events

    jobs.register_job(jobs.Job("purge_stripe_events", timedelta(hours=6), events.purge))
    jobs.register_job(jobs.Job("billing_reconcile", timedelta(hours=1), _reconcile))
