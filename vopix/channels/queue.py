"""The durable inbound queue and the outbound message rows.

Webhooks and the poller call `store_events` (one INSERT, duplicates ignored) before they
acknowledge. Workers `claim` one event at a time with a status transition (on PostgreSQL
`FOR UPDATE SKIP LOCKED`), only the oldest unfinished event of a sender, so one chat's messages
are answered in order. A claim is a lease: a worker that dies leaves its event to be claimed
again once the lease runs out, and the event's `stage` says which steps are already done.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, or_, select, update
from sqlalchemy.orm import aliased
from sqlmodel import col

from vopix.core.agent import history
from vopix.core.clock import utcnow
from vopix.core.kinds import InboundStage, InboundStatus, OutboundStatus
from vopix.db import get_engine, ingest_transaction, insert_ignoring_duplicates, session_scope
from vopix.models import InboundEvent, Message, OutboundMessage

LEASE = timedelta(seconds=60)  # workers renew it every 15 seconds while they work
MAX_ATTEMPTS = 5
RETRY_BACKOFF = (1.0, 2.0, 4.0, 8.0)  # seconds before attempts 2..5 after a failure
KEEP_EVENTS = timedelta(days=8)  # WhatsApp retries deliveries for up to 7 days
KEEP_OUTBOUND = timedelta(days=30)
_T = InboundEvent.__table__  # type: ignore[attr-defined]
_STATUS_RANK = {
    OutboundStatus.QUEUED: 0, OutboundStatus.SENT: 1, OutboundStatus.DELIVERED: 2, OutboundStatus.READ: 3,
}
_UNFINISHED = (InboundStatus.PENDING, InboundStatus.PROCESSING)


@dataclass(frozen=True)
class NewEvent:
    external_id: str
    payload: dict[str, Any] | str  # a dict, or JSON text as received
    sender_hash: str


@dataclass(frozen=True)
class Claimed:
    id: int
    channel: str
    external_id: str
    payload: dict[str, Any]
    stage: str
    attempts: int
    user_id: int | None
    conversation_id: int | None
    user_message_id: int | None


@dataclass(frozen=True)
class Outbound:
    id: int
    user_id: int
    channel: str
    seq: int
    kind: str
    body: str


def _compact(payload: dict[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"))


def store_events(channel: str, events: list[NewEvent], now: datetime | None = None) -> int:
    """Insert new events, ignoring ones already stored (same channel and external id).
    Returns how many were new. One statement, one transaction."""
    if not events:
        return 0
    moment = now or utcnow()
    rows = [
        {
            "channel": channel,
            "external_id": e.external_id[:128],
            "payload": e.payload if isinstance(e.payload, str) else _compact(e.payload),
            "status": InboundStatus.PENDING,
            "stage": InboundStage.RECEIVED,
            "attempts": 0,
            "worker": "",
            "sender_hash": e.sender_hash,
            "outcome": "",
            "received_at": moment,
        }
        for e in events
    ]
    stmt = insert_ignoring_duplicates(_T, ("channel", "external_id"), get_engine().dialect.name)
    with ingest_transaction() as conn:
        return len(conn.execute(stmt, rows).all())


def claim(worker_id: str, now: datetime | None = None, lease: timedelta | None = None) -> Claimed | None:
    """Take the next event: pending, or processing under a lease that ran out. Returns None
    when there is nothing to do."""
    moment = now or utcnow()
    stale = moment - (LEASE if lease is None else lease)
    e, older = _T, aliased(InboundEvent, name="older")
    claimable = or_(
        e.c.status == InboundStatus.PENDING,
        and_(e.c.status == InboundStatus.PROCESSING, e.c.claimed_at < stale),
    )
    unfinished_before = exists().where(
        older.sender_hash == e.c.sender_hash,
        col(older.id) < e.c.id,
        col(older.status).in_(_UNFINISHED),
    )
    pick = (
        select(e.c.id)
        .where(claimable, ~unfinished_before)
        .order_by(e.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    stmt = (
        update(e)
        .where(e.c.id == pick, claimable)
        .values(
            status=InboundStatus.PROCESSING, worker=worker_id[:40], claimed_at=moment,
            attempts=e.c.attempts + 1,
        )
        .returning(
            e.c.id, e.c.channel, e.c.external_id, e.c.payload, e.c.stage, e.c.attempts,
            e.c.user_id, e.c.conversation_id, e.c.user_message_id,
        )
    )
    with get_engine().begin() as conn:
        row = conn.execute(stmt).first()
    if row is None:
        return None
    try:
        payload = json.loads(row.payload) if row.payload else {}
    except ValueError:
        payload = {}
    return Claimed(
        row.id, row.channel, row.external_id, payload, row.stage, row.attempts,
        row.user_id, row.conversation_id, row.user_message_id,
    )


def heartbeat(event_id: int, worker_id: str, now: datetime | None = None) -> None:
    """Extend the lease of an event this worker is still processing."""
    with get_engine().begin() as conn:
        conn.execute(
            update(_T)
            .where(
                _T.c.id == event_id, _T.c.worker == worker_id[:40], _T.c.status == InboundStatus.PROCESSING
            )
            .values(claimed_at=now or utcnow())
        )


def pending_count() -> int:
    from sqlalchemy import func

    with get_engine().connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(_T).where(_T.c.status.in_(_UNFINISHED))
            ).scalar()
            or 0
        )


def store_user_message(
    event_id: int, user_id: int, conversation_id: int, content: str, channel: str
) -> int:
    """Save the person's message in the history (the same code as the web chat's) and move
    the event to stage 'stored', in one transaction: a restart never saves it twice."""
    with session_scope() as s:
        ev = s.get(InboundEvent, event_id)
        if ev is None:
            raise history.NotFound("event not found")
        msg = history.insert_message(s, user_id, conversation_id, "user", content, channel=channel)
        ev.stage, ev.user_id = InboundStage.STORED, user_id
        ev.conversation_id, ev.user_message_id = conversation_id, msg.id
        s.add(ev)
        return msg.id


def take_up_press(event_id: int, user_id: int, conversation_id: int, message_id: int) -> None:
    """A Confirm/Cancel press is about to answer the call stored as `message_id`: stage
    'stored' with that call named (in `user_message_id`), so a restart knows the call's state
    is this press's own outcome (vopix/channels/confirmations.py)."""
    with session_scope() as s:
        ev = s.get(InboundEvent, event_id)
        if ev is None:
            raise history.NotFound("event not found")
        ev.stage, ev.user_id = InboundStage.STORED, user_id
        ev.conversation_id, ev.user_message_id = conversation_id, message_id
        s.add(ev)


def abandon_partial_replies(user_id: int, conversation_id: int, after_message_id: int) -> int:
    """After a crash mid-turn: replies left half-streamed are marked stopped, so the resumed
    turn starts clean and the history shows what happened."""
    with session_scope() as s:
        n = s.exec(  # type: ignore[call-overload]
            update(Message)
            .where(
                col(Message.conversation_id) == conversation_id,
                col(Message.user_id) == user_id,
                col(Message.id) > after_message_id,
                col(Message.status) == "streaming",
            )
            .values(status="stopped")
        ).rowcount
        return int(n or 0)


def queue_reply(
    event_id: int | None, user_id: int, channel: str, parts: list[tuple[str, str]]
) -> list[Outbound]:
    """Queue (kind, body) parts as outbound rows; the event moves to stage 'answered'."""
    with session_scope() as s:
        rows = [
            OutboundMessage(
                user_id=user_id, channel=channel, inbound_event_id=event_id, seq=i, kind=kind, body=body
            )
            for i, (kind, body) in enumerate(parts)
        ]
        s.add_all(rows)
        if event_id is not None:
            ev = s.get(InboundEvent, event_id)
            if ev is not None:
                ev.stage = InboundStage.ANSWERED
                s.add(ev)
        s.flush()
        return [Outbound(r.id or 0, user_id, channel, r.seq, r.kind, r.body) for r in rows]


def queued_for(event_id: int) -> list[Outbound]:
    with session_scope() as s:
        rows = s.execute(
            select(OutboundMessage)
            .where(
                col(OutboundMessage.inbound_event_id) == event_id,
                col(OutboundMessage.status) == OutboundStatus.QUEUED,
            )
            .order_by(col(OutboundMessage.seq))
        ).scalars()
        return [Outbound(r.id or 0, r.user_id, r.channel, r.seq, r.kind, r.body) for r in rows]


def mark_sent(outbound_id: int, provider_message_id: str | None) -> None:
    now = utcnow()
    with session_scope() as s:
        s.exec(  # type: ignore[call-overload]
            update(OutboundMessage)
            .where(col(OutboundMessage.id) == outbound_id)
            .values(
                status=OutboundStatus.SENT, provider_message_id=provider_message_id, body="",
                sent_at=now, status_at=now,
            )
        )


def mark_failed(outbound_id: int, error: str, status: OutboundStatus = OutboundStatus.FAILED) -> None:
    with session_scope() as s:
        s.exec(  # type: ignore[call-overload]
            update(OutboundMessage)
            .where(col(OutboundMessage.id) == outbound_id)
            .values(status=status, error=error[:300], body="", status_at=utcnow())
        )


def skip_queued(event_id: int, reason: str) -> int:
    """Give up the rest of a queued reply (e.g. free-form text outside WhatsApp's window)."""
    with session_scope() as s:
        n = s.exec(  # type: ignore[call-overload]
            update(OutboundMessage)
            .where(
                col(OutboundMessage.inbound_event_id) == event_id,
                col(OutboundMessage.status) == OutboundStatus.QUEUED,
            )
            .values(status=OutboundStatus.SKIPPED, error=reason[:300], body="", status_at=utcnow())
        ).rowcount
        return int(n or 0)


def conversation_of(event_id: int | None) -> int | None:
    if event_id is None:
        return None
    with session_scope() as s:
        ev = s.get(InboundEvent, event_id)
        return ev.conversation_id if ev else None


def apply_status(
    provider_message_id: str, status: str, at: datetime, error: str = ""
) -> tuple[int, str] | None:
    """A delivery callback: move the outbound row forward (sent < delivered < read; failed
    wins). Returns (user_id, new status) when a row changed."""
    with session_scope() as s:
        row = s.execute(
            select(OutboundMessage).where(col(OutboundMessage.provider_message_id) == provider_message_id)
        ).scalars().first()
        if row is None:
            return None
        if status == OutboundStatus.FAILED:
            if row.status == OutboundStatus.FAILED:
                return None
            row.status, row.error = OutboundStatus.FAILED, error[:300]
        elif status in _STATUS_RANK and _STATUS_RANK[status] > _STATUS_RANK.get(row.status, 99):
            row.status = status
        else:
            return None
        row.status_at = at
        s.add(row)
        return row.user_id, row.status


def finish(event_id: int, outcome: str, *, status: str = "done", user_id: int | None = None) -> None:
    """Close an event and scrub its payload: the content now lives in the history (or, for
    an unlinked sender, nowhere)."""
    with session_scope() as s:
        ev = s.get(InboundEvent, event_id)
        if ev is None:
            return
        ev.status, ev.stage, ev.outcome = status, "done", outcome[:32]
        ev.payload, ev.finished_at = "", utcnow()
        if user_id is not None:
            ev.user_id = user_id
        s.add(ev)


def retry_soon(event: Claimed, worker_id: str, now: datetime | None = None) -> None:
    """After a failed attempt: cut this worker's lease short so the event is claimed again
    after a short back-off instead of a whole lease. The sender's later events keep waiting
    behind it (order), but only for seconds."""
    delay = RETRY_BACKOFF[min(event.attempts, len(RETRY_BACKOFF)) - 1]
    moment = (now or utcnow()) - LEASE + timedelta(seconds=delay)
    with get_engine().begin() as conn:
        conn.execute(
            update(_T)
            .where(
                _T.c.id == event.id, _T.c.worker == worker_id[:40], _T.c.status == InboundStatus.PROCESSING
            )
            .values(claimed_at=moment)
        )


def attempts_spent(event: Claimed) -> bool:
    """Is this the event's last attempt? Then a failure ends it (marked failed) at once."""
    return event.attempts >= MAX_ATTEMPTS


def give_up_if_exhausted(event: Claimed) -> bool:
    if event.attempts <= MAX_ATTEMPTS:
        return False
    finish(event.id, "gave_up", status=InboundStatus.FAILED)
    return True


def purge(now: datetime) -> int:
    """Scheduled: finished events after the providers' retry period, old delivery rows."""
    with session_scope() as s:
        n = s.exec(  # type: ignore[call-overload]
            delete(InboundEvent).where(
                col(InboundEvent.status).in_((InboundStatus.DONE, InboundStatus.FAILED)),
                col(InboundEvent.received_at) < now - KEEP_EVENTS,
            )
        ).rowcount
        s.exec(  # type: ignore[call-overload]
            delete(OutboundMessage).where(
                col(OutboundMessage.created_at) < now - KEEP_OUTBOUND,
                col(OutboundMessage.status) != OutboundStatus.QUEUED,
            )
        )
        return int(n or 0)
