"""The durable mail outbox: mail is written in the transaction of the event that causes it
(so a mail is never lost and never sent for an event that rolled back), and workers claim one
mail at a time with a lease (on PostgreSQL `FOR UPDATE SKIP LOCKED`), so each is sent once
however many workers run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, event, func, or_, select, update
from sqlmodel import Session

from vopix.core import claim_loop
from vopix.core.clock import utcnow
from vopix.core.kinds import OPTIONAL_MAIL, MailKind, MailStatus
from vopix.core.mail.addresses import checked_address, header_text
from vopix.core.mail.templates import render
from vopix.db import get_engine, session_scope
from vopix.models import MailOutbox
from vopix.settings import get_settings

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 8
# Waits before attempts 2..8 after a temporary failure (about 6 hours in all).
BACKOFF = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10),
           timedelta(minutes=30), timedelta(hours=1), timedelta(hours=2), timedelta(hours=2))
KEEP_SENT = timedelta(days=30)  # rows (without bodies) stay this long for operators
_T = MailOutbox.__table__  # type: ignore[attr-defined]

WAKEUPS = claim_loop.Wakeups()  # the mail workers of this process


@dataclass(frozen=True)
class Claimed:
    id: int
    user_id: int | None
    kind: str
    to_address: str
    subject: str
    text_body: str
    html_body: str
    unsubscribe_url: str
    attempts: int
    created_at: datetime | None = None  # with the id, the mail's stable Message-ID


@dataclass(frozen=True)
class OutboxRow:
    id: int
    kind: str
    to_address: str
    subject: str
    status: str
    attempts: int
    last_error: str
    created_at: datetime
    sent_at: datetime | None


def link(path: str) -> str:
    """An absolute link into the app, built from VOPIX_PUBLIC_URL."""
    return get_settings().public_url + path


def enqueue(
    s: Session,
    *,
    to: str,
    kind: MailKind,
    template: str,
    user_id: int | None = None,
    language: str = "en",
    unsubscribe_url: str = "",
    **params: str,
) -> int:
    """Queue a mail in the caller's transaction; returns its id. The address is checked
    (BadAddress); the subject can hold no line break."""
    if kind in OPTIONAL_MAIL and not unsubscribe_url:
        # P13: every mail a person may decline says how to stop it (preferences.queue_optional).
        raise ValueError(f"{kind} mail needs an unsubscribe link")
    address = checked_address(to)
    rendered = render(template, language, unsubscribe_url=unsubscribe_url, **params)
    row = MailOutbox(
        user_id=user_id, kind=kind, to_address=address, subject=header_text(rendered.subject),
        text_body=rendered.text, html_body=rendered.html, unsubscribe_url=unsubscribe_url,
    )
    s.add(row)
    s.flush()
    assert row.id is not None
    if not event.contains(s, "after_commit", _wake_after_commit):
        event.listen(s, "after_commit", _wake_after_commit, once=True)  # the worker sends it now
    return row.id


def _wake_after_commit(_session: Session) -> None:
    wake()


def send_mail(
    *, to: str, kind: MailKind, template: str, user_id: int | None = None, language: str = "en",
    unsubscribe_url: str = "", **params: str,
) -> int:
    """enqueue() in a transaction of its own."""
    with session_scope() as s:
        return enqueue(
            s, to=to, kind=kind, template=template, user_id=user_id, language=language,
            unsubscribe_url=unsubscribe_url, **params,
        )


def wake() -> None:
    """Tell this process's mail worker (WAKEUPS) that there is new mail."""
    WAKEUPS.wake()


def claim(worker_id: str, now: datetime | None = None, *, only_id: int | None = None) -> Claimed | None:
    """The next due mail (or that one mail, `only_id`: the CLI's test mail), now this worker's."""
    moment = now or utcnow()
    stale = moment - LEASE
    claimable = or_(
        and_(_T.c.status == MailStatus.PENDING, _T.c.next_attempt_at <= moment),
        and_(_T.c.status == MailStatus.SENDING, _T.c.claimed_at < stale),
    )
    if only_id is not None:
        claimable = and_(claimable, _T.c.id == only_id)
    pick = (
        select(_T.c.id).where(claimable).order_by(_T.c.id).limit(1)
        .with_for_update(skip_locked=True).scalar_subquery()
    )
    stmt = (
        update(_T)
        .where(_T.c.id == pick, claimable)
        .values(status=MailStatus.SENDING, worker=worker_id[:40], claimed_at=moment,
                attempts=_T.c.attempts + 1)
        .returning(_T.c.id, _T.c.user_id, _T.c.kind, _T.c.to_address, _T.c.subject,
                   _T.c.text_body, _T.c.html_body, _T.c.unsubscribe_url, _T.c.attempts,
                   _T.c.created_at)
    )
    with get_engine().begin() as conn:
        row = conn.execute(stmt).first()
    return Claimed(*row) if row is not None else None


def _finish(mail_id: int, worker_id: str, **values: object) -> None:
    with get_engine().begin() as conn:
        conn.execute(
            update(_T)
            .where(_T.c.id == mail_id, _T.c.worker == worker_id[:40], _T.c.status == MailStatus.SENDING)
            .values(**values)
        )


def mark_sent(mail_id: int, worker_id: str, message_id: str) -> None:
    # The bodies hold single-use links: once delivered they are not kept.
    _finish(mail_id, worker_id, status=MailStatus.SENT, sent_at=utcnow(), message_id=message_id[:200],
            text_body="", html_body="", last_error="")


def mark_failed(mail: Claimed, worker_id: str, error: str, *, permanent: bool) -> bool:
    """A failed attempt: retried after a back-off, or (permanent, or attempts spent) given up
    and kept as failed for operators. Returns True when it was given up."""
    give_up = permanent or mail.attempts >= MAX_ATTEMPTS
    if give_up:
        _finish(mail.id, worker_id, status=MailStatus.FAILED, last_error=header_text(error, 300),
                text_body="", html_body="")
    else:
        wait = BACKOFF[min(mail.attempts, len(BACKOFF)) - 1]
        _finish(mail.id, worker_id, status=MailStatus.PENDING, next_attempt_at=utcnow() + wait,
                last_error=header_text(error, 300), claimed_at=None)
    return give_up


def backlog() -> dict[str, int]:
    """Mail by status (operators, metrics)."""
    with get_engine().connect() as conn:
        rows = conn.execute(select(_T.c.status, func.count()).group_by(_T.c.status)).all()
    return {str(status): int(n) for status, n in rows}


def list_outbox(limit: int = 50, status: str | None = None) -> list[OutboxRow]:
    q = select(_T.c.id, _T.c.kind, _T.c.to_address, _T.c.subject, _T.c.status, _T.c.attempts,
               _T.c.last_error, _T.c.created_at, _T.c.sent_at).order_by(_T.c.id.desc()).limit(limit)
    if status:
        q = q.where(_T.c.status == status)
    with session_scope() as s:
        return [OutboxRow(*r) for r in s.execute(q).all()]


def purge(now: datetime) -> int:
    """Scheduled: sent and failed mail rows after KEEP_SENT."""
    with session_scope() as s:
        n = s.execute(
            delete(_T).where(_T.c.status.in_((MailStatus.SENT, MailStatus.FAILED)),
                             _T.c.created_at < now - KEEP_SENT)
        ).rowcount
        return int(n or 0)
