"""Readiness (issue 17): is this instance fit to serve, and is the work flowing?

Two kinds of check. Critical ones decide whether a load balancer sends traffic here: the
database answers, and Redis answers when configured. Flow checks tell people that work waits
too long: the scheduler has a leader somewhere, the oldest unprocessed channel event and the
oldest due mail are younger than their thresholds. A failing flow check makes the status
"degraded" but keeps HTTP 200 (taking every instance out of the balancer because mail is slow
would make an outage of a delay); a failing critical check gives 503.

The figures come from a few indexed queries, shared with the /metrics collector.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from vopix import db
from vopix.core.clock import utcnow
from vopix.core.kinds import InboundStatus, MailStatus, StripeEventStatus

QUEUE_LAG_DEFAULT_S = 120
OUTBOX_LAG_DEFAULT_S = 900


def _threshold(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, "") or default)
    except ValueError:
        return default


def queue_lag_threshold_s() -> int:
    return _threshold("VOPIX_HEALTH_QUEUE_LAG_SECONDS", QUEUE_LAG_DEFAULT_S)


def outbox_lag_threshold_s() -> int:
    return _threshold("VOPIX_HEALTH_OUTBOX_LAG_SECONDS", OUTBOX_LAG_DEFAULT_S)


@dataclass
class Figures:
    queue_depth: dict[str, int] = field(default_factory=dict)
    queue_oldest_s: float = 0.0
    mail_by_status: dict[str, int] = field(default_factory=dict)
    mail_oldest_due_s: float = 0.0
    stripe_waiting: int = 0
    tasks_due: int = 0
    tasks_oldest_due_s: float = 0.0
    leader_known: bool = False


def _age(now: datetime, then: datetime | None) -> float:
    if then is None:
        return 0.0
    if then.tzinfo is None:
        then = then.replace(tzinfo=now.tzinfo)
    return max(0.0, (now - then).total_seconds())


def queue_figures(now: datetime | None = None) -> Figures:
    """Channel queue, mail outbox and Stripe events, in one connection."""
    from vopix.core import jobs
    from vopix.models import InboundEvent, MailOutbox, StripeEvent, Task

    now = now or utcnow()
    ev, mail, se = InboundEvent.__table__.c, MailOutbox.__table__.c, StripeEvent.__table__.c  # type: ignore[attr-defined]
    task = Task.__table__.c  # type: ignore[attr-defined]
    unfinished = (InboundStatus.PENDING, InboundStatus.PROCESSING)
    waiting_mail = (MailStatus.PENDING, MailStatus.SENDING)
    with db.get_engine().connect() as conn:
        depth = conn.execute(
            select(ev.channel, func.count()).where(ev.status.in_(unfinished)).group_by(ev.channel)
        ).all()
        oldest = conn.execute(select(func.min(ev.received_at)).where(ev.status.in_(unfinished))).scalar()
        by_status = conn.execute(
            select(mail.status, func.count()).where(mail.status.in_(waiting_mail)).group_by(mail.status)
        ).all()
        failed = conn.execute(
            select(func.count()).where(mail.status == MailStatus.FAILED)
        ).scalar()
        due = conn.execute(
            select(func.min(mail.next_attempt_at)).where(
                mail.status.in_(waiting_mail), mail.next_attempt_at <= now
            )
        ).scalar()
        stripe = conn.execute(
            select(func.count()).where(
                se.status.in_((StripeEventStatus.PENDING, StripeEventStatus.PROCESSING))
            )
        ).scalar()
        tasks_due, task_oldest = conn.execute(
            select(func.count(), func.min(task.next_run_at)).where(
                task.status == "active", task.next_run_at <= now
            )
        ).one()
    statuses = {str(s): int(n) for s, n in by_status}
    statuses[str(MailStatus.FAILED)] = int(failed or 0)
    return Figures(
        queue_depth={str(c): int(n) for c, n in depth},
        queue_oldest_s=_age(now, oldest),
        mail_by_status=statuses,
        mail_oldest_due_s=_age(now, due),
        stripe_waiting=int(stripe or 0),
        tasks_due=int(tasks_due or 0),
        tasks_oldest_due_s=_age(now, task_oldest),
        leader_known=jobs.leader_known(),
    )


def _redis_ok(url: str) -> bool:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        return bool(client.ping())
    except Exception:
        return False
    finally:
        client.close()


@dataclass
class Report:
    status: str  # ok | degraded
    http_status: int
    checks: dict[str, dict[str, Any]]

    @property
    def database_ok(self) -> bool:
        return bool(self.checks["database"]["ok"])


def check(redis_url: str = "") -> Report:
    """Every check, run now (in a worker thread: it does blocking I/O)."""
    checks: dict[str, dict[str, Any]] = {}
    db_ok = db.ping()
    checks["database"] = {"ok": db_ok, "critical": True}
    if redis_url:
        checks["redis"] = {"ok": _redis_ok(redis_url), "critical": True}
    if db_ok:
        try:
            f = queue_figures()
        except Exception as exc:
            checks["flow"] = {"ok": False, "critical": False, "error": type(exc).__name__}
        else:
            q_max, m_max = queue_lag_threshold_s(), outbox_lag_threshold_s()
            checks["scheduler_leader"] = {"ok": f.leader_known, "critical": False}
            checks["channel_queue"] = {
                "ok": f.queue_oldest_s <= q_max, "critical": False,
                "oldest_s": round(f.queue_oldest_s, 1), "threshold_s": q_max,
                "depth": sum(f.queue_depth.values()),
            }
            checks["mail_outbox"] = {
                "ok": f.mail_oldest_due_s <= m_max, "critical": False,
                "oldest_due_s": round(f.mail_oldest_due_s, 1), "threshold_s": m_max,
                "failed": f.mail_by_status.get(str(MailStatus.FAILED), 0),
            }
    critical_fail = any(c["critical"] and not c["ok"] for c in checks.values())
    any_fail = any(not c["ok"] for c in checks.values())
    return Report("degraded" if any_fail else "ok", 503 if critical_fail else 200, checks)
