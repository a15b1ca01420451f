"""One claimed occurrence, in order:
1. the account must be in good standing (a suspended or deleting account's task never runs);
2. late by more than the grace period (downtime): recorded as missed, not run, and the next
   run counted from now; late by less: it runs, with a note saying so;
3. inside the person's quiet hours (unless the task ignores them): it waits until they end;
4. its run row moves through its stages (runs.py), exactly once whatever the workers;
5. the task moves to its next occurrence in the transaction that ends the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import update

from vopix.core.kinds import OutboundStatus
from vopix.core.tasks import claim as claims
from vopix.core.tasks import deliver, fresh
from vopix.core.tasks import schedule as sch
from vopix.core.tasks.agent_turn import agent_answer
from vopix.core.tasks.fresh import Joined, ToSend
from vopix.core.tasks.runs import (
    REMINDER_PREFIX,
    Lost,
    Result,
    Run,
    account_active,
    clock,
    defer,
    fallback,
    finish,
    finish_in,
    grace,
    interrupted_send,
    late_note,
    message_text,
    move,
    preferred,
    record_missed,
    settings,
    start_run,
    store_reminder,
    stored,
)
from vopix.db import core, session_scope
from vopix.models import OutboundMessage, Task, TaskRun, TaskSettings

log = logging.getLogger("vopix.tasks")
_T = Task.__table__  # type: ignore[attr-defined]
_R = TaskRun.__table__  # type: ignore[attr-defined]
_O = OutboundMessage.__table__  # type: ignore[attr-defined]
T = TypeVar("T")


def _route_and_outbound(
    due: claims.Due, run: Run, body: str, now: datetime
) -> tuple[deliver.Route, int | None]:
    """The route, and for a channel the outbound row it goes on, recorded on the stored run. A
    row an earlier attempt made (its worker stopped before handing it over) never left: it is
    closed as such, and a new one is made for this attempt's route."""
    with session_scope() as s:
        if run.outbound_id is not None:
            unsent = (_O.c.id == run.outbound_id) & (_O.c.status == OutboundStatus.SENDING)
            core(s).execute(update(_O).where(unsent).values(
                status=OutboundStatus.SKIPPED, body="", status_at=now,
                error="not handed over: its worker stopped; sent again"))
        prefs = s.get(TaskSettings, due.user_id)
        route = deliver.choose(s, due.user_id, prefs.channel if prefs else "web", now)
        if route.channel == "web":
            return route, None
        outbound_id = deliver.new_outbound(s, due.user_id, route, body, now)
        if not move(core(s), run.id, "stored", channel=route.channel, outbound_id=outbound_id):
            raise Lost
        return route, outbound_id


def _mark_sending(run_ids: list[int]) -> None:
    """stored -> sending, right before the channel's request: from here a retry never sends.
    Every run of the message or none (another worker took one over: it sends its own)."""
    with session_scope() as s:
        moved = core(s).execute(update(_R).where(_R.c.id.in_(run_ids), _R.c.stage == "stored")
                                .values(stage="sending")).rowcount
        if moved != len(run_ids):
            raise Lost  # (rolls the others back)


def _sending(run_ids: list[int]) -> Callable[[], Awaitable[None]]:
    async def mark() -> None:
        await asyncio.to_thread(_mark_sending, run_ids)

    return mark


async def _keeping_lease(dues: list[claims.Due], worker_id: str, work: Awaitable[T]) -> T:
    """`work` with the occurrences' leases renewed while it lasts (a send may wait long for its
    slot under Telegram's limits: lost to the lease, it would be taken for an interrupted one)."""
    def renew_all() -> None:
        for due in dues:
            claims.renew(due.task_id, worker_id, clock())

    async def keep() -> None:
        while True:
            await asyncio.sleep(claims.LEASE.total_seconds() / 3)
            await asyncio.to_thread(renew_all)

    keeper = asyncio.create_task(keep())
    try:
        return await work
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper


async def _deliver(due: claims.Due, run: Run, body: str, outcome: str, now: datetime,
                   worker_id: str) -> Result:
    route, outbound_id = await asyncio.to_thread(_route_and_outbound, due, run, body, now)
    if outbound_id is None:
        if route.reason:
            prefs = await asyncio.to_thread(preferred, due.user_id)
            await asyncio.to_thread(fallback, due, prefs, route.reason, now)
            return Result("fallback", "web", f"in the web chat: {route.reason}")
        return Result(outcome, "web")
    ok, why = await _keeping_lease([due], worker_id, deliver.send(
        route, outbound_id, due.user_id, body, before_send=_sending([run.id])))
    if route.channel == deliver.TEMPLATE:
        detail = "in the web chat; WhatsApp's template message told you it waits" if ok else (
            f"in the web chat; the WhatsApp template was refused ({why})")
        return Result("fallback", "whatsapp" if ok else "web", f"{route.reason}: {detail}")
    if ok:
        return Result(outcome, route.channel)
    await asyncio.to_thread(fallback, due, route.channel, why, now)
    return Result("fallback", "web", f"in the web chat: {why}")


def _reminder_in_one_go(due: claims.Due, now: datetime) -> Result | ToSend | Joined | None:
    """The common case in one transaction (fresh.py): a fresh occurrence of a reminder, checked
    (account, quiet hours), stored in its conversation and, for the web chat, ended and moved
    on; for a channel, left 'stored' with its outbound row. None: take the long way."""
    with session_scope() as s:
        return fresh.fresh_one(s, due, now)


def reminders_in_one_go(batch: list[claims.Due], now: datetime) -> dict[int, Result | ToSend | Joined]:
    """A claimed batch's fresh reminders (those due within the grace period) as above, all in one
    transaction with multi-row statements (fresh.py). By task id; a task not in the answer
    takes `process`'s own way. Any failure rolls the whole batch back and every occurrence
    takes its own way (nothing of the batch was stored)."""
    fresh_ones = [d for d in batch if d.kind == "reminder" and now - d.next_run_at <= grace()]
    if not fresh_ones:
        return {}
    try:
        with session_scope() as s:
            people, prefs, there, links = fresh.read_context(s, fresh_ones)
            return fresh.fresh_reminders(s, fresh_ones, now, people, prefs, there, links)
    except Exception as exc:  # each occurrence on its own instead
        log.warning("tasks: a batch of %d reminders failed (%s); one by one", len(fresh_ones),
                    type(exc).__name__)
        return {}


async def _send_and_finish(due: claims.Due, job: ToSend, now_fn: Callable[[], datetime],
                           worker_id: str) -> Result:
    """Hand a stored reminder (and those going in the same message) to its channel, then end
    every run of the message."""
    now = now_fn()
    runs = [(due, job.run), *job.others]
    ok, why = await _keeping_lease(
        [d for d, _ in runs], worker_id,
        deliver.send(job.route, job.outbound_id, due.user_id, job.body, check=False,
                     before_send=_sending([r.id for _, r in runs])))
    if ok:  # handed over: what the channel said, and the end of the runs, in one transaction
        return await asyncio.to_thread(_end_sent, due, job, now, now_fn())
    result = _sent_result(due, job, False, why)
    if job.route.channel != deliver.TEMPLATE:
        await asyncio.to_thread(fallback, due, job.route.channel, why, now)

    def finish_all() -> None:
        with session_scope() as s:
            for d, r in runs:
                finish_in(s, d, r.id, result, now_fn())

    await asyncio.to_thread(finish_all)
    return result


def _sent_result(due: claims.Due, job: ToSend, ok: bool, why: str) -> Result:
    if job.route.channel == deliver.TEMPLATE:
        detail = "in the web chat; WhatsApp's template message told you it waits" if ok else (
            f"in the web chat; the WhatsApp template was refused ({why})")
        return Result("fallback", "whatsapp" if ok else "web", f"{job.route.reason}: {detail}")
    if ok:
        return Result("delivered", job.route.channel)
    return Result("fallback", "web", f"in the web chat: {why}")


def _end_sent(due: claims.Due, job: ToSend, sent_at: datetime, now: datetime) -> Result:
    with session_scope() as s:
        ok, why = deliver.outcome_in(s, job.outbound_id)
        result = _sent_result(due, job, ok, why)
        if not ok and job.route.channel != deliver.TEMPLATE:
            deliver.tell_undelivered(s, due.user_id, job.route.channel, why, sent_at)
        for d, r in [(due, job.run), *job.others]:
            finish_in(s, d, r.id, result, now)
        return result


async def process(due: claims.Due, worker_id: str, now_fn: Callable[[], datetime] = clock,
                  done: Result | ToSend | Joined | None = None) -> Result:
    """`done`: what reminders_in_one_go did for this occurrence (its batch), if anything."""
    if isinstance(done, Joined):  # in another reminder's message: its run ends with that one
        return Result("joined")
    now = now_fn()
    late = now - due.next_run_at
    if done is not None or (due.kind == "reminder" and late <= grace()):
        fast = done if done is not None else await asyncio.to_thread(_reminder_in_one_go, due, now)
        if isinstance(fast, Result):
            return fast
        if isinstance(fast, ToSend):
            try:
                return await _send_and_finish(due, fast, now_fn, worker_id)
            except Lost:  # another worker took the run over (this one's lease ran out)
                return Result("lost")
    if not await asyncio.to_thread(account_active, due.user_id):
        run = await asyncio.to_thread(start_run, due, timedelta(0), now)
        result = Result("refused", "", "not run: the account is suspended or being deleted")
        await asyncio.to_thread(finish, due, run.id, result, now)
        return result
    late = now - due.next_run_at
    if late > grace():
        return await asyncio.to_thread(record_missed, due, now, late)
    prefs = await asyncio.to_thread(settings, due.user_id)
    tz = sch.zone(due.timezone)
    if not due.ignore_quiet_hours and sch.in_quiet_hours(now, tz, prefs.quiet_start, prefs.quiet_end):
        return await asyncio.to_thread(defer, due, sch.quiet_hours_end(now, tz, prefs.quiet_end), now)
    run = await asyncio.to_thread(start_run, due, late, now)
    try:
        if run.stage == "done":
            await asyncio.to_thread(finish, due, run.id, Result("delivered"), now)
            return Result("lost")
        if run.stage == "sending":
            result = await asyncio.to_thread(interrupted_send, run)
            await asyncio.to_thread(finish, due, run.id, result, now)
            return result
        outcome = "delivered"
        note = late_note(late, due)
        if run.stage == "started":
            if due.kind == "agent":
                message_id, body, outcome = await agent_answer(due, run, note, worker_id)
                if not await asyncio.to_thread(stored, run.id, message_id):
                    raise Lost
            else:
                body = f"{REMINDER_PREFIX}{due.text}{note}"
                message_id = await asyncio.to_thread(store_reminder, due, run, body)
            run = Run(run.id, "stored", message_id, None)
        else:  # stored: resumed after a crash; the message is in the history
            body = await asyncio.to_thread(message_text, due.user_id, run.message_id) or due.text
        result = await _deliver(due, run, body, outcome, now, worker_id)
        await asyncio.to_thread(finish, due, run.id, result, now_fn())
        return result
    except Lost:
        return Result("lost")
