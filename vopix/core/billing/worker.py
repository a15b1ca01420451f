"""The billing worker: in every app process, claims the waiting Stripe events of one customer at
a time and settles them with one re-read of that customer (sync.py)."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid

import stripe

from vopix.core import claim_loop, metrics
from vopix.core.billing import events, stripe_api, sync

log = logging.getLogger("vopix.billing.worker")
IDLE_POLL_SECONDS = 5.0


def worker_id() -> str:
    return f"billing-{socket.gethostname()[:12]}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


async def settle(claimed: events.Claimed, wid: str) -> bool:
    """Re-read the customer; True when its events are done."""
    try:
        await asyncio.to_thread(sync.sync_customer, claimed.customer_id)
    except Exception as exc:  # Stripe down, or a bug: the events wait and are tried again
        reason = type(exc).__name__
        if isinstance(exc, stripe.StripeError):
            reason = f"Stripe: {reason}"
        gave_up = await asyncio.to_thread(events.mark_failed, claimed, wid, reason)
        metrics.stripe_events("given_up" if gave_up else "failed", len(claimed.event_ids))
        (log.error if gave_up else log.warning)(
            "billing: customer %s (%d events) %s: %s", claimed.customer_id, len(claimed.event_ids),
            "given up, run `billing sync`" if gave_up else "will be retried", reason,
        )
        return False
    await asyncio.to_thread(events.mark_done, claimed, wid)
    metrics.stripe_events("processed", len(claimed.event_ids))
    return True


async def drain(wid: str | None = None, *, limit: int = 1000) -> int:
    """Settle every customer due now, one after the other (tests, the CLI)."""
    wid = wid or worker_id()
    return await claim_loop.drain(lambda: events.claim(wid), lambda c: settle(c, wid), limit)


async def run(concurrency: int = 8, idle_poll: float = IDLE_POLL_SECONDS) -> None:
    """Forever; a stored event wakes it at once. Does nothing while billing is off."""
    if not stripe_api.enabled():
        return
    wid = worker_id()
    await claim_loop.serve(
        lambda: events.claim(wid), lambda c: settle(c, wid), events.WAKEUPS,
        concurrency=concurrency, idle_poll=idle_poll, name="billing worker",
    )
