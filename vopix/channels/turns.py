"""What every chat channel does with an inbound message from a linked person: save it in the
one history, run the same agent turn the web chat runs, queue the reply as outbound rows and
deliver them. Each step is recorded on the event, so a restart resumes where it stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from vopix.channels import confirmations, queue
from vopix.core import attachments, usage
from vopix.core.agent import history, runtime
from vopix.core.kinds import InboundStage, InboundStatus, MessageStatus, NoticeKind, TurnEventKind
from vopix.core.workspace.base import WorkspaceError

log = logging.getLogger("vopix.channels")

UNLINKED_QUIET_SECONDS = 600  # one how-to-link reply per unlinked sender per 10 minutes
COULD_NOT_ANSWER = (
    "Sorry, something went wrong and I could not answer that message. Please send it again "
    "in a moment, or rephrase it."
)
NOT_HANDLED = {
    "voice": "I can't listen to voice notes yet. Please type your message.",
    "other": "I can only read text messages, photos and files for now.",
}
# Photos and files are saved into the workspace's inbox/ (kinds as the channels name them).
SAVED_KINDS = ("photo", "document")
NOT_SAVED = "I could not save that file, so I have not read it: {reason}"


class Transport(Protocol):
    """A channel's way out: plain replies, queued parts, typing indicator."""

    channel: str

    async def send_plain(self, to: str, text: str) -> None: ...

    async def render(self, to: str, user_id: int, markdown: str) -> list[tuple[str, str]]: ...

    async def deliver(self, item: queue.Outbound, to: str, event_id: int | None) -> None: ...

    def typing(self, to: str) -> contextlib.AbstractAsyncContextManager[None]: ...


@dataclass(frozen=True)
class AgentReply:
    text: str  # the text of every model step, in order, and any notice
    # The calls left waiting for the person: a Confirm/Cancel question each, after the text.
    prompts: list[tuple[str, str]] = field(default_factory=list)


async def run_agent(user_id: int, conversation_id: int, channel: str) -> AgentReply:
    """Run the turn and return what the person should read: the text of every model step
    (in order, tool steps included), any notice (no provider, quota, provider failure), and a
    question with buttons for each call that waits for their confirmation."""
    steps: list[str] = []
    current: list[str] = []
    prompts: list[tuple[str, str]] = []
    async for event in runtime.respond(user_id, conversation_id, channel=channel):
        if event.kind == TurnEventKind.TEXT:
            current.append(event.text)
        elif event.kind in (TurnEventKind.TOOL_RESULT, TurnEventKind.DONE, TurnEventKind.ERROR):
            steps.append("".join(current).strip())
            current = []
            if event.kind == TurnEventKind.ERROR:
                steps.append(event.text.strip())
            waiting = event.data.get("status") == MessageStatus.AWAITING_CONFIRMATION
            if event.kind == TurnEventKind.TOOL_RESULT and waiting and event.message_id:
                prompts.append(confirmations.prompt_part(
                    event.message_id, str(event.data.get("name", "")), event.data.get("arguments")
                ))
    steps.append("".join(current).strip())
    return AgentReply("\n\n".join(t for t in steps if t), prompts)


async def answer(
    event: queue.Claimed, transport: Transport, user_id: int, to: str, text: str
) -> None:
    """Exactly-once processing of a linked person's text message, resumable at every stage.
    On its last attempt a failure ends the event and tells the person, instead of failing
    again: their next message is then answered at once."""
    try:
        await _answer_stages(event, transport, user_id, to, text)
    except Exception as exc:
        if not queue.attempts_spent(event):
            raise
        log.error("%s event %s failed on its last attempt: %s", transport.channel, event.id,
                  type(exc).__name__)
        await asyncio.to_thread(
            queue.finish, event.id, "gave_up", status=InboundStatus.FAILED, user_id=user_id
        )
        with contextlib.suppress(Exception):
            await transport.send_plain(to, COULD_NOT_ANSWER)


async def _answer_stages(
    event: queue.Claimed, transport: Transport, user_id: int, to: str, text: str
) -> None:
    channel = transport.channel
    conversation_id, message_id = event.conversation_id, event.user_message_id
    stage = event.stage
    if stage == InboundStage.RECEIVED:
        conversation_id = await asyncio.to_thread(history.conversation_for_channel, user_id)
        message_id = await asyncio.to_thread(
            queue.store_user_message, event.id, user_id, conversation_id, text, channel
        )
        stage = InboundStage.STORED
    if stage == InboundStage.STORED and (conversation_id is None or message_id is None):
        # The person deleted the conversation (and so this message) before it was answered:
        # there is nothing left to answer.
        await asyncio.to_thread(queue.finish, event.id, "deleted", user_id=user_id)
        return
    if stage == InboundStage.STORED:
        assert conversation_id is not None and message_id is not None
        if event.attempts > 1:  # resumed after a crash or restart mid-turn
            await asyncio.to_thread(queue.abandon_partial_replies, user_id, conversation_id, message_id)
        async with transport.typing(to):
            reply = await run_agent(user_id, conversation_id, channel)
        parts = await transport.render(to, user_id, reply.text) if reply.text else []
        # The questions come last, their buttons under everything the agent said; a reply the
        # channel cannot send freely (WhatsApp's template) asks nothing: the web app does.
        if all(kind != "template" for kind, _ in parts):
            parts += reply.prompts
        await asyncio.to_thread(queue.queue_reply, event.id, user_id, channel, parts)
    # Every delivery moves its row out of 'queued' (sent, failed or skipped), so this ends;
    # re-reading lets a delivery replace the rest of the reply (WhatsApp's template fallback).
    while items := await asyncio.to_thread(queue.queued_for, event.id):
        await transport.deliver(items[0], to, event.id)
    await asyncio.to_thread(queue.finish, event.id, "answered", user_id=user_id)


async def answer_with_file(
    event: queue.Claimed,
    transport: Transport,
    user_id: int,
    to: str,
    caption: str,
    name: str | None,
    download: Callable[[], Awaitable[bytes]],
    *,
    default: str = attachments.DEFAULT_NAME,
) -> None:
    """A photo or file from a linked person: saved into inbox/ (metered, all or nothing), then
    answered like a text message that names it, so the agent knows and can read it. A file the
    workspace refuses (too large, storage full) gets the reason and no turn."""
    try:
        data = await download()
        saved = await asyncio.to_thread(attachments.save, user_id, name, [data], default=default)
    except WorkspaceError as exc:
        await transport.send_plain(to, NOT_SAVED.format(reason=exc))
        await asyncio.to_thread(queue.finish, event.id, "file_refused", user_id=user_id)
        return
    await answer(event, transport, user_id, to, attachments.with_note(caption, [saved]))


async def reply_unlinked(event: queue.Claimed, transport: Transport, to: str, how_to: str) -> None:
    """Tell a stranger how to link, at most once per quiet period; keep nothing about them but
    the keyed sender hash (abuse prevention)."""
    recent = await asyncio.to_thread(_recent_unlinked, event.id)
    if not recent:
        await transport.send_plain(to, how_to)
    await asyncio.to_thread(queue.finish, event.id, "unlinked" if not recent else "unlinked_quiet")


def _recent_unlinked(event_id: int) -> bool:
    from datetime import timedelta

    from sqlmodel import col, select

    from vopix.core.clock import utcnow
    from vopix.db import session_scope
    from vopix.models import InboundEvent

    with session_scope() as s:
        ev = s.get(InboundEvent, event_id)
        if ev is None or not ev.sender_hash:
            return False
        since = utcnow() - timedelta(seconds=UNLINKED_QUIET_SECONDS)
        hit = s.exec(
            select(InboundEvent.id).where(
                InboundEvent.sender_hash == ev.sender_hash,
                InboundEvent.outcome == "unlinked",
                col(InboundEvent.finished_at) > since,
                InboundEvent.id != event_id,
            )
        ).first()
        return hit is not None


def window_notice(user_id: int, conversation_id: int | None, channel: str, at: datetime, reason: str) -> None:
    """Tell the person in the web app that the agent could not reply freely on WhatsApp."""
    text = (
        "Your agent could not reply freely on WhatsApp: more than 24 hours have passed since "
        "your last WhatsApp message, and WhatsApp then allows only a pre-approved template "
        f"message. {reason} The full reply is here in the web app; send any WhatsApp message "
        "to reopen the conversation there."
    )
    usage.add_notice(
        user_id, f"whatsapp-window-{at:%Y%m%d%H%M%S%f}", text,
        kind=NoticeKind.WHATSAPP_WINDOW, level="warning", link="/channels",
    )
    if conversation_id is not None:
        with contextlib.suppress(history.NotFound):
            history.add_message(user_id, conversation_id, "notice", text, channel=channel)
