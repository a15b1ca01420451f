"""The mail worker: claims queued mail, hands it to the transport, records the outcome.
Every app process runs one (the lifespan); the outbox's claim keeps each mail to one sender."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid

from vopix.core import claim_loop, metrics
from vopix.core.mail import outbox, transport

log = logging.getLogger("vopix.mail")
IDLE_POLL_SECONDS = 5.0
MARK_SENT_TRIES = 4


def worker_id() -> str:
    return f"mail-{socket.gethostname()[:12]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


async def send_one(mail: outbox.Claimed, wid: str) -> transport.Delivered | None:
    """Deliver one claimed mail; where it went, or None when it was not sent."""
    try:
        delivered = await transport.deliver(mail)
    except transport.SendFailed as exc:
        gave_up = await asyncio.to_thread(outbox.mark_failed, mail, wid, str(exc), permanent=exc.permanent)
        metrics.mail_failed(gave_up)
        # Never the address or the content in the log: the mail id and the reason only.
        (log.error if gave_up else log.warning)(
            "mail %s (%s) %s: %s", mail.id, mail.kind, "given up" if gave_up else "will be retried", exc
        )
        return None
    except Exception as exc:  # a bug must not stop the worker; the mail is retried
        await asyncio.to_thread(outbox.mark_failed, mail, wid, type(exc).__name__, permanent=False)
        metrics.mail_failed(False)
        log.exception("mail %s failed unexpectedly", mail.id)
        return None
    metrics.mail_sent()
    # The server has it: recording that must not fail on a passing database error, or the
    # lease would run out and the mail go out twice.
    for attempt in range(MARK_SENT_TRIES):
        try:
            await asyncio.to_thread(outbox.mark_sent, mail.id, wid, delivered.message_id)
            break
        except Exception as exc:
            if attempt == MARK_SENT_TRIES - 1:
                log.error(
                    "mail %s sent but not recorded (%s): it may be sent again", mail.id, type(exc).__name__
                )
            else:
                await asyncio.sleep(0.5 * (attempt + 1))
    return delivered


async def send_now(mail_id: int) -> transport.Delivered | None:
    """Send that one mail now, if it is due (the CLI's test mail), whatever else waits."""
    wid = worker_id()
    mail = await asyncio.to_thread(outbox.claim, wid, only_id=mail_id)
    return await send_one(mail, wid) if mail is not None else None


async def drain(wid: str | None = None, *, limit: int = 1000) -> int:
    """Send every mail that is due now, one after the other (tests, the CLI); returns how many
    were attempted."""
    wid = wid or worker_id()
    return await claim_loop.drain(lambda: outbox.claim(wid), lambda mail: send_one(mail, wid), limit)


async def run(concurrency: int = 4, idle_poll: float = IDLE_POLL_SECONDS) -> None:
    """Send mail forever, up to `concurrency` at a time; new mail wakes it at once."""
    wid = worker_id()
    await claim_loop.serve(
        lambda: outbox.claim(wid), lambda mail: send_one(mail, wid), outbox.WAKEUPS,
        concurrency=concurrency, idle_poll=idle_poll, name="mail worker",
    )
