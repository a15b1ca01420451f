"""The one loop behind every queue worker (channel events, mail, Stripe events): claim an item
from the database in a worker thread, handle it as a task, at most `concurrency` at a time;
when nothing is due, wait for a wake-up or the idle poll."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger("vopix.claims")


class Wakeups:
    """The workers of this process that want to hear of a queue's new work at once; `wake()`
    may be called from any thread (after the commit that made the work)."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[], None]] = []

    def on(self, fn: Callable[[], None]) -> None:
        if fn not in self._listeners:
            self._listeners.append(fn)

    def off(self, fn: Callable[[], None]) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    def wake(self) -> None:
        for fn in list(self._listeners):
            try:
                fn()
            except RuntimeError:  # that worker's loop is gone (stopping): it polls again anyway
                self.off(fn)


async def serve(
    claim: Callable[[], T | None],
    handle: Callable[[T], Awaitable[object]],
    wakeups: Wakeups,
    *,
    concurrency: int,
    idle_poll: float,
    name: str,
) -> None:
    """run(), woken by `wakeups` as well as by the idle poll."""
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()

    def notify() -> None:
        loop.call_soon_threadsafe(wake.set)

    wakeups.on(notify)
    try:
        await run(claim, handle, wake, concurrency=concurrency, idle_poll=idle_poll, name=name)
    finally:
        wakeups.off(notify)


async def run(
    claim: Callable[[], T | None],
    handle: Callable[[T], Awaitable[object]],
    wake: asyncio.Event,
    *,
    concurrency: int,
    idle_poll: float,
    name: str,
) -> None:
    """Forever (until cancelled; running handlers are cancelled with it)."""
    slots = asyncio.Semaphore(concurrency)
    running: set[asyncio.Task[None]] = set()

    async def one(item: T) -> None:
        try:
            await handle(item)
        finally:
            slots.release()

    try:
        while True:
            await slots.acquire()
            wake.clear()  # a wake-up from now on ends the wait below at once
            try:
                item = await asyncio.to_thread(claim)
            except Exception as exc:
                log.warning("%s could not claim (%s); retrying", name, type(exc).__name__)
                item = None
            if item is None:
                slots.release()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), idle_poll)
                continue
            task = asyncio.create_task(one(item))
            running.add(task)
            task.add_done_callback(running.discard)
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)


async def drain(claim: Callable[[], T | None], handle: Callable[[T], Awaitable[object]], limit: int) -> int:
    """Handle every item due now, one after the other (tests, the CLI); how many were taken."""
    done = 0
    while done < limit and (item := await asyncio.to_thread(claim)) is not None:
        await handle(item)
        done += 1
    return done
