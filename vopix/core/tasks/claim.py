"""Due occurrences, claimed from the database with a lease (APScheduler's job store is not shared
between processes, so it is not used for this).

One UPDATE takes a batch of active tasks whose next run is due and whose lease is free or ran
out, oldest first; on PostgreSQL the rows are picked `FOR UPDATE SKIP LOCKED`, so workers racing
for the same rows each take different ones, and SQLite has a single writer. The lease belongs to
one worker; it renews it while an agent task runs. A worker that dies leaves its occurrences to
be claimed again once the lease runs out, and the run row of each occurrence (worker.py) tells
the next worker what was already done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update

from vopix.core.clock import utcnow
from vopix.db import get_engine
from vopix.models import Task

LEASE = timedelta(seconds=90)
_T = Task.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Due:
    task_id: int
    user_id: int
    kind: str
    title: str
    text: str
    timezone: str
    start_local: str
    rrule: str
    ignore_quiet_hours: bool
    next_run_at: datetime
    occurrence_at: datetime
    conversation_id: int | None


def _claimable(now: datetime) -> object:
    return and_(
        _T.c.status == "active",
        _T.c.next_run_at <= now,
        or_(_T.c.lease_until.is_(None), _T.c.lease_until < now),
    )


def claim_statement(worker_id: str, now: datetime, limit: int, lease: timedelta,
                    dialect: str = "postgresql") -> object:
    """On PostgreSQL the pick is a CTE (`WITH picked AS (SELECT ... FOR UPDATE SKIP LOCKED)
    UPDATE ... FROM picked`): a locking CTE runs once, whatever the planner thinks of the table
    (an `IN (subquery)` could be planned as a subquery per row before the statistics catch up with
    a burst of new tasks). SQLite runs the uncorrelated IN subquery once anyway."""
    pick = (
        select(_T.c.id)
        .where(_claimable(now))
        .order_by(_T.c.next_run_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    returning = (
        _T.c.id, _T.c.user_id, _T.c.kind, _T.c.title, _T.c.text, _T.c.timezone, _T.c.start_local,
        _T.c.rrule, _T.c.ignore_quiet_hours, _T.c.next_run_at, _T.c.occurrence_at, _T.c.conversation_id,
    )
    values = {"lease_until": now + lease, "worker": worker_id[:40]}
    if dialect == "postgresql":
        picked = pick.cte("picked")
        return update(_T).where(_T.c.id == picked.c.id).values(**values).returning(*returning)
    return (
        update(_T).where(_T.c.id.in_(pick.scalar_subquery()), _claimable(now))
        .values(**values).returning(*returning)
    )


def claim(worker_id: str, now: datetime | None = None, limit: int = 32,
          lease: timedelta = LEASE) -> list[Due]:
    """Take up to `limit` due occurrences for this worker (an empty list: nothing is due)."""
    moment = now or utcnow()
    engine = get_engine()
    with engine.begin() as conn:
        stmt = claim_statement(worker_id, moment, limit, lease, engine.dialect.name)
        rows = conn.execute(stmt).all()  # type: ignore[call-overload]
    due = [
        Due(r.id, r.user_id, r.kind, r.title, r.text, r.timezone, r.start_local, r.rrule,
            bool(r.ignore_quiet_hours), r.next_run_at, r.occurrence_at or r.next_run_at, r.conversation_id)
        for r in rows
    ]
    due.sort(key=lambda d: d.next_run_at)
    return due


def renew(task_id: int, worker_id: str, now: datetime | None = None, lease: timedelta = LEASE) -> bool:
    """Extend this worker's lease; False when it lost it (edited, paused, or taken over)."""
    moment = now or utcnow()
    with get_engine().begin() as conn:
        n = conn.execute(
            update(_T)
            .where(_T.c.id == task_id, _T.c.worker == worker_id[:40], _T.c.lease_until >= moment)
            .values(lease_until=moment + lease)
        ).rowcount
    return bool(n)
