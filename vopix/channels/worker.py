"""The inbound worker: claims stored events and answers them, a few at a time.

Runs as a lifespan task in every app process (claims are exclusive, so several processes
share the work), and in `python -m vopix telegram-poll`. Webhook routes wake it at once; it
also looks for work every second (events stored by another process, leases that ran out
after a crash: a restart resumes unfinished turns exactly where they stopped).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

from vopix.channels import links, queue, telegram, whatsapp
from vopix.core import claim_loop, http, log_format
from vopix.core.jobs import Job, register_job
from vopix.core.kinds import InboundStatus
from vopix.settings import get_settings

log = logging.getLogger("vopix.channels.worker")

CONCURRENCY = 8
IDLE_POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
HANDLERS: dict[str, Callable[[queue.Claimed], Awaitable[None]]] = {
    "telegram": telegram.handle,
    "whatsapp": whatsapp.handle,
}
_wake: asyncio.Event | None = None

def install() -> None:
    """The channels' clean-up jobs (vopix.platform.install calls this)."""
    register_job(Job("purge_channel_link_codes", timedelta(minutes=15), links.purge_codes))
    register_job(Job("purge_channel_events", timedelta(hours=1), queue.purge))


def notify() -> None:
    """Tell this process's worker that new events were stored."""
    if _wake is not None:
        _wake.set()


def worker_id() -> str:
    return f"{socket.gethostname()[:16]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


@log_format.with_event_id(lambda event, *_: (event.channel, event.external_id))  # its log lines
async def process(event: queue.Claimed, wid: str) -> None:
    """Run one claimed event; after an error it is tried again soon (queue.retry_soon), at
    most queue.MAX_ATTEMPTS times in all."""
    if await asyncio.to_thread(queue.give_up_if_exhausted, event):
        log.error("%s event %s failed %s times; giving up", event.channel, event.id, event.attempts - 1)
        return

    async def beat() -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            with contextlib.suppress(Exception):
                await asyncio.to_thread(queue.heartbeat, event.id, wid)

    heart = asyncio.create_task(beat())
    try:
        handler = HANDLERS.get(event.channel)
        if handler is None:
            await asyncio.to_thread(queue.finish, event.id, "unknown_channel", status=InboundStatus.FAILED)
        else:
            await handler(event)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        # The message and traceback types only: never the content of the event.
        log.error("%s event %s failed (attempt %s): %s", event.channel, event.id, event.attempts,
                  type(exc).__name__)
        # A failing event must not hold its chat for long: retry after a short back-off, and
        # after the last attempt end it, so the chat's next message goes on at once.
        if queue.attempts_spent(event):
            await asyncio.to_thread(queue.finish, event.id, "gave_up", status=InboundStatus.FAILED)
        else:
            await asyncio.to_thread(queue.retry_soon, event, wid)
    finally:
        heart.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heart


async def drain(wid: str | None = None, *, limit: int = 1000) -> int:
    """Process every claimable event now, one after the other (tests, the CLI)."""
    wid = wid or worker_id()
    return await claim_loop.drain(lambda: queue.claim(wid), lambda event: process(event, wid), limit)


async def run(concurrency: int = CONCURRENCY, idle_poll: float = IDLE_POLL_SECONDS) -> None:
    """Claim and process events forever, at most `concurrency` at a time."""
    global _wake
    _wake = wake = asyncio.Event()
    wid = worker_id()
    try:
        unfinished = await asyncio.to_thread(queue.pending_count)
        if unfinished:
            log.info("resuming %s unfinished channel events", unfinished)
        await claim_loop.run(
            lambda: queue.claim(wid), lambda event: process(event, wid), wake,
            concurrency=concurrency, idle_poll=idle_poll, name="channel worker",
        )
    finally:
        if _wake is wake:
            _wake = None


@contextlib.asynccontextmanager
async def channels_lifespan() -> AsyncIterator[None]:
    """App lifespan: the worker, and the Telegram poller when VOPIX_TELEGRAM_POLLING is on."""
    from vopix.channels import alerts

    tasks = [
        asyncio.create_task(run(), name="channel-worker"),
        asyncio.create_task(alerts.run(), name="channel-alerts"),  # claims keep each to one process
    ]
    if get_settings().telegram_polling and telegram.enabled():
        tasks.append(asyncio.create_task(telegram.poll(notify), name="telegram-poll"))
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await http.close_all()  # this loop's pooled clients: channels, Telegram bots, providers
