"""Confirming a waiting tool call from Telegram or WhatsApp: the phone as a first-class place to
approve an action.

Out: a call that waits (runtime: AWAITING_CONFIRMATION) becomes an outbound part of kind
"confirm" after the reply's text (`prompt_part`): the call described as a person would ("Delete
README.md?") with Confirm and Cancel buttons, sent by the channel's transport (Telegram inline
keyboard, WhatsApp reply buttons). Like every part it is a durable outbound row, sent once.

In: a button press is an inbound event like a message (deduplicated on Telegram's update_id or
WhatsApp's message id, claimed in the chat's order). `handle_press` resolves the chat to its
linked person and answers for that person only, through the same core function as the web
chat's buttons (runtime.confirm_tool_call, which runs the call at most once). Steps are recorded
on the event, so a restart resumes without running or reporting anything twice:
received -> stored (the press was taken up for that call: `user_message_id` names it) ->
answered (the outcome is queued as outbound rows) -> done.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from vopix.channels import links, queue
from vopix.core.agent import history, runtime
from vopix.core.agent.tools import describe_call, failure_reason
from vopix.core.kinds import InboundStage, MessageStatus

log = logging.getLogger("vopix.channels.confirmations")

PROMPT_KIND = "confirm"
QUESTION_MAX_CHARS = 1000  # WhatsApp's button message body allows 1024
CONFIRM_TITLE, CANCEL_TITLE = "Confirm", "Cancel"


class Verdict(StrEnum):
    """What became of a press (also the event's outcome)."""

    UNLINKED = "press_unlinked"  # the chat is linked to nobody
    UNKNOWN = "press_unknown"  # the button names no waiting call of this person's
    ANSWERED = "press_answered"  # answered before (another press, the web app)
    DONE = "confirmed"
    CANCELLED = "cancelled"
    FAILED = "confirmed_failed"
    UNFINISHED = "confirmed_unfinished"  # started, never reported back (a crash mid-run)


# Short texts: the toast of a Telegram callback answer (200 characters at most), and the reply.
NOT_LINKED = {
    "telegram": "This chat is not linked to a VOPIX account, so nothing was done.",
    "whatsapp": "This number is not linked to a VOPIX account, so nothing was done.",
}
NOT_YOURS = "That button does not belong to anything waiting for you. Nothing was done."
ALREADY = "This was already answered."
UNFINISHED = "It is running, or was interrupted before it finished; the web app shows how it ends."
_TOAST = {
    Verdict.UNLINKED: "Not linked: nothing was done.",
    Verdict.UNKNOWN: "Nothing is waiting here. Nothing was done.",
    Verdict.ANSWERED: ALREADY,
}


@dataclass(frozen=True)
class Press:
    """A Confirm or Cancel press, as the channel received it."""

    to: str  # the chat (Telegram chat id, WhatsApp number)
    target: int | None  # the waiting call's message id; None when the button names none
    approve: bool
    ack_ref: str  # Telegram: the callback query to answer; WhatsApp: the inbound message id
    prompt_ref: int = 0  # Telegram: the message that carries the buttons (0: unknown)


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    question: str  # the call as it was asked ("Delete README.md?"); empty when unknown
    text: str  # what the chat is told


class PressTransport(Protocol):
    """What `handle_press` needs of a channel (telegram.TelegramTransport, whatsapp.WhatsAppTransport)."""

    channel: str

    async def send_plain(self, to: str, text: str) -> None: ...

    async def deliver(self, item: queue.Outbound, to: str, event_id: int | None) -> None: ...

    def typing(self, to: str) -> contextlib.AbstractAsyncContextManager[None]: ...

    async def acknowledge(self, press: Press, text: str) -> None: ...

    def result_parts(self, press: Press, outcome: Outcome) -> list[tuple[str, str]]: ...


# --------------------------------------------------------------------------- out: the question


def question(name: str, args: dict[str, Any] | str | None) -> str:
    """The call as a person would be asked it: "Delete README.md?", then its arguments as
    labelled lines (those the title already shows are left out)."""
    view = describe_call(name, args)
    title = view.title.rstrip(".?!")
    lines = [f"{title}?"]
    lines += [f"{label}: {value}" for label, value in view.fields if value not in view.title]
    text = "\n".join(lines)
    return text if len(text) <= QUESTION_MAX_CHARS else f"{text[: QUESTION_MAX_CHARS - 1]}…"


def prompt_part(message_id: int, name: str, args: dict[str, Any] | str | None) -> tuple[str, str]:
    """The outbound part asking the person about the call stored as `message_id`."""
    body = json.dumps({"message_id": message_id, "text": question(name, args)}, ensure_ascii=False)
    return PROMPT_KIND, body


def read_prompt(body: str) -> tuple[int, str]:
    """(message id, question) of a "confirm" part."""
    data = json.loads(body)
    return int(data["message_id"]), str(data["text"])


# --------------------------------------------------------------------------- in: the press


def outcome_of(row: history.MessageView, verdict: Verdict | None = None) -> Outcome:
    """How a call's stored state reads for the chat; `verdict` ANSWERED says it was so before."""
    ask = question(row.tool_name or "", row.tool_args)
    status = row.status
    if status == MessageStatus.COMPLETE:
        found, text = Verdict.DONE, f"Done: {row.content}"
    elif status == MessageStatus.CANCELLED:
        found, text = Verdict.CANCELLED, "Cancelled. Nothing was changed."
    elif status == MessageStatus.FAILED:
        found, text = Verdict.FAILED, f"It failed: {failure_reason(row.content)}"
    elif status == MessageStatus.CONFIRMING:
        found, text = Verdict.UNFINISHED, UNFINISHED
    else:  # refused, or anything else that did nothing
        found, text = Verdict.CANCELLED, "Not done. Nothing was changed."
    if verdict == Verdict.ANSWERED:
        return Outcome(Verdict.ANSWERED, ask, f"{ALREADY} {text}")
    return Outcome(found, ask, text)


def _waiting_call(user_id: int, message_id: int) -> history.MessageView | None:
    """The person's own tool call row, or None (another person's, gone, or not a tool call)."""
    try:
        row = history.get_message(user_id, message_id)
    except history.NotFound:
        return None
    return row if row.role == "tool" and row.tool_name else None


async def handle_press(event: queue.Claimed, transport: PressTransport, press: Press) -> None:
    """Answer a press exactly once; resumable at every stage (see the module docstring)."""
    channel = transport.channel
    if event.stage == InboundStage.ANSWERED:  # a restart after the outcome was queued
        await _deliver_and_finish(event, transport, press.to, "answered", event.user_id)
        return
    user_id = await asyncio.to_thread(links.find_user, channel, press.to)
    if user_id is None:
        await _refuse(event, transport, press, Verdict.UNLINKED, NOT_LINKED[channel])
        return
    row = None if press.target is None else await asyncio.to_thread(_waiting_call, user_id, press.target)
    if row is None:
        await _refuse(event, transport, press, Verdict.UNKNOWN, NOT_YOURS, user_id)
        return
    assert press.target is not None
    # Stage 'stored' with this call named: an earlier attempt of this very press took it up,
    # so a call no longer waiting is this press's own outcome, not an earlier answer's.
    taken_before = event.stage == InboundStage.STORED and event.user_message_id == press.target
    if row.status != MessageStatus.AWAITING_CONFIRMATION and not taken_before:
        outcome = outcome_of(row, Verdict.ANSWERED)
        await _ack(transport, press, ALREADY)
    else:
        if not taken_before:
            await _ack(transport, press, "Running it…" if press.approve else "Cancelled.")
            await asyncio.to_thread(
                queue.take_up_press, event.id, user_id, row.conversation_id, press.target
            )
        outcome = await _answer(transport, press, user_id, taken_before)
    parts = transport.result_parts(press, outcome)
    await asyncio.to_thread(queue.queue_reply, event.id, user_id, channel, parts)
    await _deliver_and_finish(event, transport, press.to, outcome.verdict.value, user_id)


async def _answer(transport: PressTransport, press: Press, user_id: int, taken_before: bool) -> Outcome:
    assert press.target is not None
    answered_elsewhere = False
    try:
        async with transport.typing(press.to):
            await runtime.confirm_tool_call(user_id, press.target, press.approve, transport.channel)
    except history.NotFound:
        # No longer waiting: this press's own earlier attempt ran it (a restart), or the web
        # app (or another press) answered between our look and our claim.
        answered_elsewhere = not taken_before
    row = await asyncio.to_thread(_waiting_call, user_id, press.target)
    if row is None:  # deleted meanwhile (the person deleted the conversation)
        return Outcome(Verdict.UNKNOWN, "", "That request was deleted. Nothing was done.")
    return outcome_of(row, Verdict.ANSWERED if answered_elsewhere else None)


async def _ack(transport: PressTransport, press: Press, text: str) -> None:
    """Stop the button's spinner; a failure (an old query) changes nothing."""
    try:
        await transport.acknowledge(press, text)
    except Exception as exc:  # best effort: the outcome follows anyway
        log.info("%s: could not acknowledge a press (%s)", transport.channel, type(exc).__name__)


async def _refuse(
    event: queue.Claimed, transport: PressTransport, press: Press, verdict: Verdict, text: str,
    user_id: int | None = None,
) -> None:
    await _ack(transport, press, _TOAST[verdict])
    await transport.send_plain(press.to, text)
    await asyncio.to_thread(queue.finish, event.id, verdict.value, user_id=user_id)


async def _deliver_and_finish(
    event: queue.Claimed, transport: PressTransport, to: str, outcome: str, user_id: int | None
) -> None:
    while items := await asyncio.to_thread(queue.queued_for, event.id):
        await transport.deliver(items[0], to, event.id)
    await asyncio.to_thread(queue.finish, event.id, outcome, user_id=user_id)
