"""Is a web reply still being written? A turn streaming to a tab runs in the worker that held
the tab's socket; when that process dies (kill -9, a lost machine) nothing finishes the reply,
and the tab, reconnected to another instance, must be able to tell.

So a running web turn holds a lease (a `web_turn` row) that it renews every BEAT_S seconds
with what it has streamed so far, and removes when it ends. A lease that ran out (LEASE_S
without a renewal) is a dead turn: `settle` stores its reply as INTERRUPTED (the person gets a
Retry) and removes the lease, exactly once whoever asks first (the tab that reconnects, or
any tab that opens the conversation later). The lease is in the database, so the same holds
on SQLite in a single process that was restarted, and across instances on PostgreSQL.

A turn whose renewal fell behind by LEASE_S (a process stalled that long) is taken for dead
too; its own end then finds no lease and the reply it stores afterwards follows the
interrupted one.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import bindparam, delete, select, update
from sqlmodel import Session

from vopix.core.agent import history
from vopix.core.clock import utcnow
from vopix.core.kinds import MessageStatus, TurnEventKind
from vopix.db import core, session_scope
from vopix.models import WebTurn

log = logging.getLogger(__name__)
BEAT_S = 2.0  # how often a running turn renews its lease
LEASE_S = 10.0  # a lease not renewed for this long is a dead turn's
_TURN = WebTurn.__table__  # type: ignore[attr-defined]


class Liveness(StrEnum):
    ALIVE = "alive"  # renewed within LEASE_S
    EXPIRED = "expired"  # not renewed: the turn's process died
    MISSING = "missing"  # no lease: the turn ended (or never got to take one)


def new_key() -> str:
    return secrets.token_hex(16)


class Lease:
    """The running side: `await start()`, `seen(event)` for each of the turn's events, `await
    end()` when it is over. Between the two, the process's keeper renews it every BEAT_S."""

    def __init__(self, key: str, user_id: int, conversation_id: int | None) -> None:
        self.key, self.user_id, self.conversation_id = key, user_id, conversation_id
        self.text = ""  # the reply streaming now (not yet stored)
        self.sent: tuple[str, int | None] = ("", conversation_id)  # what the row holds

    async def start(self) -> None:
        await asyncio.to_thread(self._insert)
        keeper.add(self)

    def seen(self, event: object) -> None:
        kind = getattr(event, "kind", None)
        if kind == TurnEventKind.TEXT:
            self.text += getattr(event, "text", "")
        else:  # the message is stored (user message, a finished step, a notice): nothing pending
            self.text = ""
            self.conversation_id = getattr(event, "conversation_id", None) or self.conversation_id

    async def end(self) -> None:
        keeper.drop(self)
        await asyncio.to_thread(release, self.key)

    def _insert(self) -> None:
        with session_scope() as s:
            s.add(WebTurn(key=self.key, user_id=self.user_id, conversation_id=self.conversation_id,
                          lease_until=utcnow() + timedelta(seconds=LEASE_S)))



class Keeper:
    """Renews every running lease of this process together: one transaction a beat, one UPDATE
    of their times and one (executemany) of the texts that changed, however many turns run.
    A lease a turn renewed on its own cost a thread hop and a transaction every BEAT_S per turn,
    and a saturated worker, whose turns last long, spent a sixth of its time on them."""

    def __init__(self) -> None:
        self._leases: dict[str, Lease] = {}
        self._task: asyncio.Task[None] | None = None

    def add(self, lease: Lease) -> None:
        self._leases[lease.key] = lease
        task = self._task
        if task is None or task.done() or task.get_loop() is not asyncio.get_running_loop():
            self._task = asyncio.create_task(self._run(), name="web-turn-leases")

    def drop(self, lease: Lease) -> None:
        self._leases.pop(lease.key, None)

    async def _run(self) -> None:
        while self._leases:
            await asyncio.sleep(BEAT_S)
            leases = list(self._leases.values())
            changed = [lease for lease in leases if (lease.text, lease.conversation_id) != lease.sent]
            texts = {lease.key: (lease.text, lease.conversation_id) for lease in changed}
            try:
                await asyncio.to_thread(renew_many, [lease.key for lease in leases], texts)
            except Exception:  # a missed renewal is retried at the next beat
                log.warning("web turn leases: a renewal failed", exc_info=True)
                continue
            for lease in changed:
                lease.sent = texts[lease.key]


keeper = Keeper()


def renew_many(keys: list[str], texts: dict[str, tuple[str, int | None]]) -> None:
    """Push these leases on by LEASE_S, and store the texts (with their conversations) given."""
    if not keys:
        return
    with session_scope() as s:
        conn = core(s)
        conn.execute(update(_TURN).where(_TURN.c.key.in_(keys))
                     .values(lease_until=utcnow() + timedelta(seconds=LEASE_S)))
        if texts:
            conn.execute(
                update(_TURN).where(_TURN.c.key == bindparam("k"))
                .values(text=bindparam("t"), conversation_id=bindparam("c")),
                [{"k": k, "t": t, "c": c} for k, (t, c) in texts.items()],
            )


def renew(key: str, text: str, conversation_id: int | None, *, text_changed: bool = True) -> bool:
    """Push the lease on by LEASE_S (with the text so far); False when it is gone (settled)."""
    values: dict[str, object] = {"lease_until": utcnow() + timedelta(seconds=LEASE_S)}
    if text_changed:
        values.update(text=text, conversation_id=conversation_id)
    with session_scope() as s:
        return bool(core(s).execute(update(_TURN).where(_TURN.c.key == key).values(**values)).rowcount)


def release(key: str) -> None:
    with session_scope() as s:
        core(s).execute(delete(_TURN).where(_TURN.c.key == key))


def look(key: str) -> Liveness:
    if not key:
        return Liveness.MISSING
    with session_scope() as s:
        until = core(s).execute(select(_TURN.c.lease_until).where(_TURN.c.key == key)).scalar()
    if until is None:
        return Liveness.MISSING
    return Liveness.ALIVE if until > utcnow() else Liveness.EXPIRED


def running(user_id: int, conversation_id: int) -> tuple[str, str] | None:
    """The lease (key, text so far) of a turn of this person's conversation, newest first: a
    tab that lost its state (reset on a reconnect, gone with Redis) finds the reply it waited
    for here."""
    with session_scope() as s:
        row = core(s).execute(
            select(_TURN.c.key, _TURN.c.text)
            .where(_TURN.c.conversation_id == conversation_id, _TURN.c.user_id == user_id)
            .order_by(_TURN.c.lease_until.desc())
            .limit(1)
        ).first()
    return (str(row.key), str(row.text)) if row is not None else None


def settle(key: str, user_id: int, shown: str = "", conversation_id: int | None = None) -> int | None:
    """A dead turn's reply, stored once as INTERRUPTED: the longer of what the tab showed
    (`shown`) and what the lease last held, in the lease's conversation or else the tab's
    (`conversation_id`: a turn that died before its first renewal). Returns the new message's
    id; None when the lease is not this person's dead one (alive, settled already, or gone)."""
    with session_scope() as s:
        return _settle(s, key, user_id, shown, conversation_id)


def settle_expired(user_id: int, conversation_id: int) -> int:
    """Every dead turn of this conversation settled (a tab that opens it after its reply was
    cut off, when no tab came back for it): how many."""
    with session_scope() as s:
        keys = core(s).execute(
            select(_TURN.c.key).where(
                _TURN.c.conversation_id == conversation_id,
                _TURN.c.user_id == user_id,
                _TURN.c.lease_until <= utcnow(),
            )
        ).scalars().all()
        return sum(_settle(s, key, user_id, "") is not None for key in keys)


def _settle(s: Session, key: str, user_id: int, shown: str, fallback: int | None = None) -> int | None:
    conn = core(s)
    row = conn.execute(
        select(_TURN.c.conversation_id, _TURN.c.text).where(
            _TURN.c.key == key, _TURN.c.user_id == user_id, _TURN.c.lease_until <= utcnow()
        )
    ).first()
    if row is None:
        return None
    # The DELETE decides who settles it: another tab or instance settling at the same time
    # deletes nothing and stores nothing.
    gone = conn.execute(delete(_TURN).where(_TURN.c.key == key, _TURN.c.lease_until <= utcnow()))
    conversation_id = row.conversation_id or fallback
    if not gone.rowcount or not conversation_id:
        return None
    text = shown if len(shown) >= len(row.text) else row.text
    try:
        with s.begin_nested():
            return history.insert_message(
                s, user_id, conversation_id, "assistant", text, status=MessageStatus.INTERRUPTED
            ).id
    except history.NotFound:  # the conversation went meanwhile
        return None
