"""An occurrence's run row and the task's move to its next occurrence (the state machine the
worker drives; see occurrence.py for the order of the checks).

The run row (one per task and occurrence) moves started -> stored -> sending -> done, each move
conditional on the one before: of two workers racing for an occurrence only one stores and only
one sends, and a retry after a crash resumes where the run stopped. A run moves to 'sending'
only when nothing is left to wait for but the channel's request (after Telegram's pacing): one
found 'stored' (its outbound row perhaps made, never handed over) is sent by the retry, one found
'sending' (the worker died while handing the message to its channel) is not sent again: whether
it left is unknown, the web chat has it, the run says so. The task moves to its next occurrence in the
transaction that ends the run.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, select, update
from sqlmodel import Session

from vopix.core import live
from vopix.core.agent import history
from vopix.core.clock import utcnow
from vopix.core.kinds import OutboundStatus
from vopix.core.tasks import claim as claims
from vopix.core.tasks import deliver
from vopix.core.tasks import schedule as sch
from vopix.core.tasks.deliver import Lost
from vopix.db import core, get_engine, insert_ignoring_duplicates, session_scope
from vopix.models import OutboundMessage, Task, TaskRun, TaskSettings
from vopix.settings import get_settings

_T = Task.__table__  # type: ignore[attr-defined]
_R = TaskRun.__table__  # type: ignore[attr-defined]
CHANNEL = "task"  # how the history marks a message that came from a task
REMINDER_PREFIX = "\u23f0 Reminder: "
MAX_MISSED_ROWS = 20


def grace() -> timedelta:
    return timedelta(minutes=get_settings().task_grace_minutes)


def clock() -> datetime:
    """The workers' time: the real one, moved forward by VOPIX_TASK_CLOCK_OFFSET_SECONDS or by
    the seconds written in the file VOPIX_TASK_CLOCK_FILE names (test servers' knobs, so that a
    browser test's "in two minutes" comes due when the test says). Refused at start-up in
    production: cluster.check_test_clock."""
    offset = float(os.environ.get("VOPIX_TASK_CLOCK_OFFSET_SECONDS") or 0)
    path = os.environ.get("VOPIX_TASK_CLOCK_FILE")
    if path:
        with contextlib.suppress(OSError, ValueError), open(path) as fh:
            offset += float(fh.read().strip() or 0)
    return utcnow() + timedelta(seconds=offset)


@dataclass(frozen=True)
class Result:
    outcome: str  # delivered | fallback | missed | refused | failed | deferred | lost
    channel: str = ""
    detail: str = ""


# -- the run row ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    id: int
    stage: str
    message_id: int | None
    outbound_id: int | None
    prompt_id: int | None = None  # an agent task's prompt, once stored


def start_run(due: claims.Due, late: timedelta, now: datetime) -> Run:
    dialect = get_engine().dialect.name
    stmt = insert_ignoring_duplicates(_R, ("task_id", "occurrence_at"), dialect)
    with session_scope() as s:
        conn = core(s)
        conn.execute(stmt, [{
            "task_id": due.task_id, "user_id": due.user_id, "occurrence_at": due.occurrence_at,
            "stage": "started", "outcome": "", "channel": "", "detail": "",
            "late_seconds": max(0, int(late.total_seconds())), "started_at": now,
        }])
        row = conn.execute(
            select(_R.c.id, _R.c.stage, _R.c.message_id, _R.c.outbound_id, _R.c.prompt_id).where(
                _R.c.task_id == due.task_id, _R.c.occurrence_at == due.occurrence_at)
        ).one()
        return Run(row.id, row.stage, row.message_id, row.outbound_id, row.prompt_id)


def prompt_recorder(run_id: int) -> Callable[[Session, int], None]:
    """For runtime.run_turn: the prompt's message id on the run, in the transaction that stores
    the prompt (a crash leaves both or neither)."""
    def record(s: Session, message_id: int) -> None:
        core(s).execute(update(_R).where(_R.c.id == run_id).values(prompt_id=message_id))

    return record


def move(conn: object, run_id: int, before: str, **values: object) -> bool:
    n = conn.execute(  # type: ignore[attr-defined]
        update(_R).where(_R.c.id == run_id, _R.c.stage == before).values(**values)
    ).rowcount
    return bool(n)


# -- finishing and advancing -------------------------------------------------------------------


def _schedule_of(due: claims.Due) -> sch.Schedule:
    return sch.Schedule(due.start_local, due.rrule, due.timezone)


def advance(s: Session, due: claims.Due, now: datetime, *, missed_note: str) -> None:
    """The task's next occurrence, after this one and after now (no burst of catch-up runs:
    occurrences between them are recorded as missed)."""
    advance_many(s, [due], now, missed_note=missed_note)


def advance_many(s: Session, batch: list[claims.Due], now: datetime, *, missed_note: str) -> None:
    """advance for several occurrences: their missed rows in one INSERT, their tasks' moves in
    one UPDATE (executemany)."""
    skipped_rows: list[dict[str, object]] = []
    moves: list[dict[str, object]] = []
    for due in batch:
        schedule = _schedule_of(due)
        skipped: list[datetime] = []
        nxt = sch.next_after(schedule, due.occurrence_at)
        while nxt is not None and nxt <= now:
            if len(skipped) < MAX_MISSED_ROWS:
                skipped.append(nxt)
            nxt = sch.next_after(schedule, nxt if len(skipped) < MAX_MISSED_ROWS else now)
        skipped_rows += [{
            "task_id": due.task_id, "user_id": due.user_id, "occurrence_at": t, "stage": "done",
            "outcome": "missed", "channel": "", "detail": missed_note[:300],
            "late_seconds": int((now - t).total_seconds()), "started_at": now, "finished_at": now,
        } for t in skipped]
        moves.append({"task": due.task_id, "was": due.occurrence_at, "nxt": nxt,
                      "status": "active" if nxt is not None else "finished"})
    conn = core(s)
    if skipped_rows:
        stmt = insert_ignoring_duplicates(_R, ("task_id", "occurrence_at"), get_engine().dialect.name)
        conn.execute(stmt, skipped_rows)
    if moves:
        conn.execute(_MOVE_ON, [{**m, "now": now} for m in moves])


_MOVE_ON = update(_T).where(_T.c.id == bindparam("task"), _T.c.occurrence_at == bindparam("was")).values(
    next_run_at=bindparam("nxt"), occurrence_at=bindparam("nxt"), status=bindparam("status"),
    lease_until=None, worker="", updated_at=bindparam("now"))


def finish(due: claims.Due, run_id: int, result: Result, now: datetime) -> None:
    """End the run (unless it ended already) and move the task on, in one transaction."""
    with session_scope() as s:
        finish_in(s, due, run_id, result, now)


def finish_in(s: Session, due: claims.Due, run_id: int, result: Result, now: datetime) -> None:
    """finish, in the caller's transaction."""
    live.changed(s, due.user_id, live.TASKS)  # a new last run on an open Tasks page
    core(s).execute(
        update(_R).where(_R.c.id == run_id, _R.c.stage != "done").values(
            stage="done", outcome=result.outcome, channel=result.channel,
            detail=result.detail[:300], finished_at=now,
        )
    )
    advance(s, due, now, missed_note="not run: an earlier occurrence was still running late")


def record_missed(due: claims.Due, now: datetime, late: timedelta) -> Result:
    minutes = int(late.total_seconds() // 60)
    detail = f"missed: VOPIX was not running at the time ({minutes} minutes ago); not run"
    stmt = insert_ignoring_duplicates(_R, ("task_id", "occurrence_at"), get_engine().dialect.name)
    with session_scope() as s:
        core(s).execute(stmt, [{
            "task_id": due.task_id, "user_id": due.user_id, "occurrence_at": due.occurrence_at,
            "stage": "done", "outcome": "missed", "channel": "", "detail": detail,
            "late_seconds": int(late.total_seconds()), "started_at": now, "finished_at": now,
        }])
        advance(s, due, now, missed_note="missed: VOPIX was not running at the time; not run")
        live.changed(s, due.user_id, live.TASKS)
    return Result("missed", detail=detail)


def defer(due: claims.Due, until: datetime, now: datetime) -> Result:
    with get_engine().begin() as conn:
        conn.execute(
            update(_T).where(_T.c.id == due.task_id, _T.c.occurrence_at == due.occurrence_at)
            .values(next_run_at=until, lease_until=None, worker="", updated_at=now)
        )
    return Result("deferred", detail=f"quiet hours: waits until {until:%Y-%m-%d %H:%M} UTC")


# -- content ---------------------------------------------------------------------------------


def late_note(late: timedelta, due: claims.Due) -> str:
    if late < timedelta(minutes=1):
        return ""
    minutes = int(late.total_seconds() // 60)
    when = sch.local_naive(due.next_run_at, sch.zone(due.timezone))
    return f"\n\n(Late by {minutes} min: this was due at {when:%H:%M}.)"


def conversation(due: claims.Due) -> int:
    """The task's own conversation (made at its first delivery, again if the person deleted it)."""
    with session_scope() as s:
        task = s.get(Task, due.task_id)
        current = task.conversation_id if task else None
    if current is not None:
        return current
    conv = history.create_conversation(due.user_id, f"Task: {due.title}"[:200])
    with get_engine().begin() as conn:
        conn.execute(update(_T).where(_T.c.id == due.task_id).values(conversation_id=conv.id))
    return conv.id


def store_reminder(due: claims.Due, run: Run, text: str) -> int:
    for _ in range(2):
        conversation_id = conversation(due)
        try:
            with session_scope() as s:
                msg = history.insert_message(
                    s, due.user_id, conversation_id, "assistant", text, channel=CHANNEL)
                if not move(core(s), run.id, "started", stage="stored", message_id=msg.id):
                    raise Lost
                return msg.id
        except history.NotFound:  # the conversation was deleted a moment ago
            with get_engine().begin() as conn:
                conn.execute(update(_T).where(_T.c.id == due.task_id).values(conversation_id=None))
    raise Lost


def stored(run_id: int, message_id: int) -> bool:
    with session_scope() as s:
        return move(core(s), run_id, "started", stage="stored", message_id=message_id)


def message_text(user_id: int, message_id: int | None) -> str:
    if message_id is None:
        return ""
    try:
        return history.get_message(user_id, message_id).content
    except history.NotFound:
        return ""


# -- delivery --------------------------------------------------------------------------------


def preferred(user_id: int) -> str:
    with session_scope() as s:
        prefs = s.get(TaskSettings, user_id)
        return prefs.channel if prefs else "web"


def settings(user_id: int) -> TaskSettings:
    with session_scope() as s:
        return s.get(TaskSettings, user_id) or TaskSettings(user_id=user_id)


# -- the loop ---------------------------------------------------------------------------------


def fallback(due: claims.Due, channel: str, reason: str, now: datetime) -> None:
    with session_scope() as s:
        deliver.tell_undelivered(s, due.user_id, channel, reason, now)


def interrupted_send(run: Run) -> Result:
    """A run left 'sending' by a worker that died: never sent again."""
    if run.outbound_id is not None:
        ok, _ = deliver.outcome_of(run.outbound_id)
        if ok:
            with session_scope() as s:
                row = s.get(OutboundMessage, run.outbound_id)
                channel = row.channel if row else ""
            return Result("delivered", channel, "its channel had it before the worker stopped")
        with session_scope() as s:
            s.execute(update(OutboundMessage).where(
                and_(OutboundMessage.id == run.outbound_id,  # type: ignore[arg-type]
                     OutboundMessage.status == OutboundStatus.SENDING))  # type: ignore[arg-type]
                .values(status=OutboundStatus.FAILED, error="interrupted; not sent again",
                        status_at=utcnow()))
    return Result("failed", "web", "interrupted while sending; not sent again (it is in the web chat)")


# -- one occurrence ------------------------------------------------------------------------------


def account_active(user_id: int) -> bool:
    from vopix.core import account_standing

    return account_standing.is_active(user_id)
