"""Running due occurrences: every app process runs `serve` (a lifespan task); the claim's lease
makes each occurrence run once whatever the number of processes. One occurrence is
occurrence.process (the order of its checks); its run row's stages are runs.py; an agent task's
turn is agent_turn.py."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select

from vopix.core import claim_loop, metrics
from vopix.core.tasks import claim as claims
from vopix.core.tasks import occurrence
from vopix.core.tasks.occurrence import process
from vopix.core.tasks.runs import CHANNEL, Result, clock, grace
from vopix.db import get_engine
from vopix.models import Task

__all__ = ["CHANNEL", "Result", "clock", "due_count", "grace", "handle_batch", "process", "run_due",
           "serve", "wakeups", "worker_name"]

log = logging.getLogger("vopix.tasks")
_T = Task.__table__  # type: ignore[attr-defined]
wakeups = claim_loop.Wakeups()


def worker_name() -> str:
    return f"{socket.gethostname()[:24]}:{os.getpid()}"


async def handle_batch(
    batch: list[claims.Due], worker_id: str, now_fn: Callable[[], datetime] = clock
) -> int:
    async def one(due: claims.Due, done: Result | occurrence.ToSend | occurrence.Joined | None) -> None:
        try:
            await metrics.observe_task_occurrence(  # due / late / missed (issue 17)
                process(due, worker_id, now_fn, done), (now_fn() - due.next_run_at).total_seconds())
        except Exception as exc:  # the lease runs out and another attempt is made
            log.warning("task %s occurrence failed (%s)", due.task_id, type(exc).__name__)

    done = await asyncio.to_thread(occurrence.reminders_in_one_go, batch, now_fn())
    await asyncio.gather(*(one(d, done.get(d.task_id)) for d in batch))
    return len(batch)


async def run_due(worker_id: str | None = None, now_fn: Callable[[], datetime] = clock,
                  batch: int = 32, limit: int = 100_000) -> int:
    """Every occurrence due now, batch after batch (tests, the CLI, the bench). How many."""
    name = worker_id or worker_name()
    done = 0
    while done < limit and (due := await asyncio.to_thread(claims.claim, name, now_fn(), batch)):
        done += await handle_batch(due, name, now_fn)
    return done


async def serve(concurrency: int = 128, batch: int = 64, idle_poll: float = 5.0,
                sending: int = 1024) -> None:
    """Lifespan task of every app process: up to `concurrency` occurrences at once, claimed a
    batch at a time but each in a slot of its own (one slow occurrence holds only its own
    slot). Woken by `wakeups`, else it polls every `idle_poll`. A slot is a coroutine (database
    work is bounded by the thread pool and the connection pool).
    A fresh reminder for Telegram or WhatsApp, once stored (its batch's transaction), only waits
    for its channel: it leaves its slot for one of `sending` places, so that a burst held back
    by Telegram's limits (~30 messages a second for the bot) does not hold up the web chat's
    and WhatsApp's reminders behind it; its lease is kept while it waits (occurrence.py)."""
    name = worker_name()
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()
    free = asyncio.Semaphore(concurrency)
    send_room = asyncio.Semaphore(sending)
    running: set[asyncio.Task[None]] = set()
    in_flight = 0

    def notify() -> None:
        loop.call_soon_threadsafe(wake.set)

    async def one(due: claims.Due, done: Result | occurrence.ToSend | occurrence.Joined | None) -> None:
        nonlocal in_flight
        holds_slot, sends = True, False
        try:
            if isinstance(done, occurrence.ToSend):  # stored; only its send and the run's end are left
                await send_room.acquire()
                sends = True
                in_flight -= 1
                free.release()
                holds_slot = False
            await process(due, name, clock, done)
        except Exception as exc:  # the lease runs out and another attempt is made
            log.warning("task %s occurrence failed (%s)", due.task_id, type(exc).__name__)
        finally:
            if holds_slot:
                in_flight -= 1
                free.release()
            if sends:
                send_room.release()

    async def batch_of(due: list[claims.Due]) -> None:
        """The batch's fresh reminders in one transaction, then each occurrence in its slot."""
        done = await asyncio.to_thread(occurrence.reminders_in_one_go, due, clock())
        await asyncio.gather(*(one(d, done.get(d.task_id)) for d in due))

    wakeups.on(notify)
    try:
        while True:
            await free.acquire()  # at least one slot before claiming
            free.release()
            await send_room.acquire()  # and a place for a send
            send_room.release()
            wake.clear()
            room = min(batch, concurrency - in_flight)
            try:
                due = await asyncio.to_thread(claims.claim, name, clock(), room)
            except Exception as exc:
                log.warning("tasks could not claim (%s); retrying", type(exc).__name__)
                due = []
            if not due:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), idle_poll)
                continue
            for _ in due:
                await free.acquire()
                in_flight += 1
            task = asyncio.create_task(batch_of(due))
            running.add(task)
            task.add_done_callback(running.discard)
    finally:
        wakeups.off(notify)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)


def due_count(now: datetime | None = None) -> int:
    with get_engine().connect() as conn:
        return int(conn.execute(
            select(func.count()).select_from(_T)
            .where(_T.c.status == "active", _T.c.next_run_at <= (now or clock()))
        ).scalar() or 0)
