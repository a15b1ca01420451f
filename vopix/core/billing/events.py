"""Stripe's webhook events as a queue: stored (deduplicated on the event id) before they are
acknowledged, then drained by the billing worker, one customer at a time: every event of that
customer waiting then is settled by one re-read of the customer (sync.py). Stripe's advice is
the same: acknowledge at once, do the work after; a Stripe API outage then costs our retries,
not Stripe's (which back off for up to three days)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select, update

from vopix.core import claim_loop
from vopix.core.clock import utcnow
from vopix.core.kinds import StripeEventStatus
from vopix.db import get_engine, ingest_transaction, insert_ignoring_duplicates
from vopix.models import StripeEvent

_T = StripeEvent.__table__  # type: ignore[attr-defined]
LEASE = timedelta(minutes=5)  # a worker that died mid-sync gives its events back after this
MAX_ATTEMPTS = 12  # with the backoff below: about 17 hours of retries
KEEP = timedelta(days=30)  # Stripe redelivers for 3 days at most; ids are kept well past that

WAKEUPS = claim_loop.Wakeups()  # the billing workers of this process


@dataclass(frozen=True)
class Claimed:
    customer_id: str
    event_ids: tuple[str, ...]
    attempts: int  # the most any of them has had, this one included


def store(event_id: str, kind: str, customer_id: str, now: datetime | None = None) -> bool:
    """Keep the event; False when it was stored before (a repeated delivery). An event that
    names no customer needs no work and is stored as done."""
    moment = now or utcnow()
    row = {
        "id": event_id[:80], "type": kind[:80], "customer_id": customer_id[:64],
        "status": StripeEventStatus.PENDING if customer_id else StripeEventStatus.DONE,
        "attempts": 0, "next_attempt_at": moment, "worker": "", "last_error": "",
        "received_at": moment, "processed_at": None if customer_id else moment,
    }
    stmt = insert_ignoring_duplicates(_T, ("id",), get_engine().dialect.name)
    with ingest_transaction() as conn:
        new = bool(conn.execute(stmt, [row]).all())
    if new and customer_id:
        wake()
    return new


def wake() -> None:
    """Tell this process's billing worker (WAKEUPS) that an event waits."""
    WAKEUPS.wake()


def _claimable(moment: datetime) -> object:
    return or_(
        and_(_T.c.status == StripeEventStatus.PENDING, _T.c.next_attempt_at <= moment),
        and_(_T.c.status == StripeEventStatus.PROCESSING, _T.c.claimed_at < moment - LEASE),
    )


def claim(worker_id: str, now: datetime | None = None) -> Claimed | None:
    """The oldest due customer's waiting events, now this worker's."""
    moment = now or utcnow()
    claimable = _claimable(moment)
    pick = (
        select(_T.c.customer_id).where(claimable).order_by(_T.c.received_at).limit(1)
        .with_for_update(skip_locked=True).scalar_subquery()
    )
    stmt = (
        update(_T)
        .where(_T.c.customer_id == pick, claimable)
        .values(status=StripeEventStatus.PROCESSING, worker=worker_id[:40], claimed_at=moment,
                attempts=_T.c.attempts + 1)
        .returning(_T.c.id, _T.c.customer_id, _T.c.attempts)
    )
    with ingest_transaction() as conn:
        rows = conn.execute(stmt).all()
    if not rows:
        return None
    return Claimed(rows[0][1], tuple(r[0] for r in rows), max(int(r[2]) for r in rows))


def _finish(claimed: Claimed, worker_id: str, **values: object) -> None:
    with ingest_transaction() as conn:
        conn.execute(
            update(_T)
            .where(_T.c.id.in_(claimed.event_ids), _T.c.worker == worker_id[:40],
                   _T.c.status == StripeEventStatus.PROCESSING)
            .values(**values)
        )


def mark_done(claimed: Claimed, worker_id: str, now: datetime | None = None) -> None:
    _finish(claimed, worker_id, status=StripeEventStatus.DONE, processed_at=now or utcnow(), last_error="")


def retry_delay(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s ... capped at 4 hours."""
    return timedelta(seconds=min(5 * 2 ** max(0, attempts - 1), 4 * 3600))


def mark_failed(claimed: Claimed, worker_id: str, error: str, now: datetime | None = None) -> bool:
    """Back to the queue after a delay, or given up after MAX_ATTEMPTS; True when given up."""
    moment = now or utcnow()
    gave_up = claimed.attempts >= MAX_ATTEMPTS
    _finish(
        claimed, worker_id, last_error=error[:200],
        status=StripeEventStatus.FAILED if gave_up else StripeEventStatus.PENDING,
        next_attempt_at=moment + retry_delay(claimed.attempts),
    )
    return gave_up


def backlog() -> dict[str, int]:
    """How many events are in each status (the operator's view)."""
    by_status = select(_T.c.status, func.count()).group_by(_T.c.status)
    with get_engine().connect() as conn:
        return {str(status): int(n) for status, n in conn.execute(by_status)}


def purge(now: datetime) -> int:
    """Settled events go after 30 days (pending ones stay until they are settled)."""
    with get_engine().begin() as conn:
        result = conn.execute(
            delete(_T).where(
                _T.c.received_at < now - KEEP,
                _T.c.status.in_((StripeEventStatus.DONE, StripeEventStatus.FAILED)),
            )
        )
        return int(result.rowcount or 0)
