"""The one loop behind every queue worker (channel events, mail): claim an item from the
database in a worker thread, handle it as a task, at most `concurrency` at a time; when
nothing is due, wait for a wake-up or the idle poll."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger("vopix.claims")


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
