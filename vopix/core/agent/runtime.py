"""The turn loop shared by every channel: save the person's message, check quotas, call the
chosen provider with tools, stream text, run tool calls, persist everything."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from vopix.core import metrics, usage
from vopix.core.agent import history, profile
from vopix.core.agent.context import TRIMMED_NOTE, fit_history, system_prompt, to_chat_messages
from vopix.core.agent.message_actions import Rewind
from vopix.core.agent.tools import (
    CHANNELS_WITH_CONFIRMATION,
    FAILURE_PREFIX,
    ToolContext,
    get_tool,
    run_tool,
    tools_for,
)
from vopix.core.clock import utcnow
from vopix.core.kinds import MessageStatus, TurnEventKind
from vopix.core.providers import (
    ChatMessage,
    Done,
    ProviderAuthError,
    ProviderConfig,
    ProviderError,
    ProviderRateLimited,
    TextDelta,
    ToolCall,
    ToolCallEvent,
    ToolSpec,
    Usage,
    make_provider,
    stream_with_retry,
)
from vopix.db import session_scope

MAX_STEPS = 8
MAX_TOOL_RESULT_CHARS = 20_000
STOP_CHECK_EVERY_S = 0.1
NO_PROVIDER_TEXT = (
    "No AI provider is set up for your agent yet, so I cannot reply. "
    "Choose a provider and model in Agent settings (/settings)."
)
StopCheck = Callable[[], Awaitable[bool]]


@dataclass
class TurnEvent:
    kind: TurnEventKind
    text: str = ""
    message_id: int | None = None
    conversation_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


def _provider_failure_text(err: ProviderError) -> str:
    if isinstance(err, ProviderAuthError):
        return (
            "The AI provider refused the API key. Check the key in Agent settings; "
            "your message is saved and you can send it again."
        )
    if isinstance(err, ProviderRateLimited):
        return (
            "The AI provider is rate-limiting requests right now. Your message is saved; "
            "try again in a minute."
        )
    return (
        f"The AI provider did not answer properly ({err.message}). Your message is saved; "
        "try again in a moment."
    )


@metrics.instrument_turn
async def run_turn(
    user_id: int,
    text: str,
    *,
    channel: str = "web",
    conversation_id: int | None = None,
    should_stop: StopCheck | None = None,
    on_stored: Callable[[Session, int], None] | None = None,
) -> AsyncIterator[TurnEvent]:
    """Save the person's message, then answer it (see `respond`). `on_stored(session,
    message_id)` runs in the transaction that saves the message (a task run records it)."""
    content = (text or "").strip()
    if not content:
        yield TurnEvent(TurnEventKind.ERROR, "Write a message first.")
        return
    if conversation_id is None:
        conversation_id = (await asyncio.to_thread(history.create_conversation, user_id)).id
    # One thread hop saves the message and prepares the answer; the message is kept whatever
    # the preparation decides (quota, provider) or raises.
    msg_id, outcome = await asyncio.to_thread(
        _prepare, user_id, conversation_id, channel, content, on_stored=on_stored)
    yield TurnEvent(TurnEventKind.USER_MESSAGE, content, msg_id, conversation_id)
    async for event in _answer(user_id, conversation_id, channel, outcome, should_stop):
        yield event


async def _notice(user_id: int, conversation_id: int, text: str, channel: str) -> TurnEvent:
    m = await asyncio.to_thread(
        history.add_message, user_id, conversation_id, "notice", text, channel=channel
    )
    return TurnEvent(TurnEventKind.ERROR, text, m.id, conversation_id)


@dataclass
class _Prepared:
    config: ProviderConfig
    messages: list[ChatMessage]
    specs: list[ToolSpec]


_Outcome = _Prepared | str | Exception  # ready, a notice for the person, or a failure


def _prepare(
    user_id: int,
    conversation_id: int,
    channel: str,
    inbound: str | None = None,
    rewind: Rewind | None = None,
    *,
    on_stored: Callable[[Session, int], None] | None = None,
    admitted: bool = False,
) -> tuple[int | None, _Outcome]:
    """Everything before the provider call, in one worker-thread hop (fast first token):
    store `inbound` (the person's message) if given, quotas (unless the message was `admitted`
    already), provider, `rewind` (an edit or a regenerate, only once the turn is admitted),
    history, prompt."""
    msg_id = None
    with session_scope() as s:
        if inbound is not None:
            msg_id = history.insert_message(s, user_id, conversation_id, "user", inbound, channel=channel).id
            if on_stored is not None:
                on_stored(s, msg_id)
        try:
            # A savepoint: whatever happens here, the inbound message above is committed.
            with s.begin_nested() if inbound is not None else nullcontext():
                if not admitted:
                    usage.admit_message(s, user_id)
                config, persona = profile.load_for_turn(s, user_id)
                if rewind is not None:
                    rewind(s)
                rows = history.recent_for_context(s, user_id, conversation_id)
        except usage.QuotaExceeded as exc:
            return msg_id, str(exc)
        except profile.ProviderUnusable as exc:
            return msg_id, f"{exc} Open Agent settings (/settings)."
        except profile.NoProviderConfigured:
            return msg_id, NO_PROVIDER_TEXT
        except Exception as exc:
            if inbound is None:
                raise
            return msg_id, exc
    try:
        system = system_prompt(user_id, persona, channel, utcnow())
        convo, trimmed = fit_history(to_chat_messages(rows), system, config.model)
        if trimmed:
            system = f"{system}\n\n{TRIMMED_NOTE}"
        specs = [t.spec() for t in tools_for(user_id)]
    except Exception as exc:
        if inbound is None:
            raise
        return msg_id, exc
    return msg_id, _Prepared(config, [ChatMessage("system", system), *convo], specs)


def _save_step(
    user_id: int,
    conversation_id: int,
    channel: str,
    text: str,
    status: str,
    model: str,
    usages: list[Usage],
) -> int | None:
    """After a model step: its text (if any) and its metered usage, in one transaction."""
    with session_scope() as s:
        for u in usages:
            usage.count_api_call(s, user_id, model, u.input_tokens, u.output_tokens)
        if not text and status == MessageStatus.COMPLETE:
            return None
        return history.insert_message(
            s, user_id, conversation_id, "assistant", text, channel=channel, status=status
        ).id


@metrics.instrument_turn
async def respond(
    user_id: int,
    conversation_id: int,
    *,
    channel: str = "web",
    should_stop: StopCheck | None = None,
    rewind: Rewind | None = None,
    admitted: bool = False,
) -> AsyncIterator[TurnEvent]:
    """Answer the latest messages of a conversation. Never invents a reply: without a
    provider, over quota, or when the provider fails, the person gets a clear notice. A
    `rewind` (message_actions: edit and resend, regenerate) first cuts the conversation back,
    in the transaction that admits the turn: a turn refused for quota or provider changes
    nothing, and one whose rewind fails (NotFound, ValueError) raises before any provider call.
    `admitted`: the message answered was counted already (a task's turn run again after a
    crash): the quota is not checked nor the message counted again."""
    _, outcome = await asyncio.to_thread(
        _prepare, user_id, conversation_id, channel, None, rewind, admitted=admitted)
    async for event in _answer(user_id, conversation_id, channel, outcome, should_stop):
        yield event


async def _answer(
    user_id: int,
    conversation_id: int,
    channel: str,
    prep: _Outcome,
    should_stop: StopCheck | None,
) -> AsyncIterator[TurnEvent]:
    if isinstance(prep, Exception):
        raise prep
    if isinstance(prep, str):
        yield await _notice(user_id, conversation_id, prep, channel)
        return
    provider = metrics.instrument_provider(make_provider(prep.config), prep.config.kind)  # shared pool
    messages, model = prep.messages, prep.config.model

    for _step in range(MAX_STEPS):
        text_parts: list[str] = []
        calls: list[ToolCall] = []
        usages: list[Usage] = []
        last_check = time.monotonic()
        stopped = False
        try:
            async for event in stream_with_retry(provider, messages, prep.specs):
                if isinstance(event, TextDelta):
                    text_parts.append(event.text)
                    yield TurnEvent(TurnEventKind.TEXT, event.text, None, conversation_id)
                    if should_stop and time.monotonic() - last_check >= STOP_CHECK_EVERY_S:
                        last_check = time.monotonic()
                        if await should_stop():
                            stopped = True
                            break
                elif isinstance(event, ToolCallEvent):
                    calls.append(event.call)
                elif isinstance(event, Done):
                    usages.append(event.usage)
        except ProviderError as err:
            await asyncio.to_thread(
                _save_step, user_id, conversation_id, channel, "".join(text_parts),
                MessageStatus.ERROR, model, usages,
            )
            yield await _notice(user_id, conversation_id, _provider_failure_text(err), channel)
            return
        text = "".join(text_parts)
        status = MessageStatus.STOPPED if stopped else MessageStatus.COMPLETE
        message_id = await asyncio.to_thread(
            _save_step, user_id, conversation_id, channel, text, status, model, usages
        )
        if stopped:
            yield TurnEvent(TurnEventKind.DONE, text, message_id, conversation_id, {"stopped": True})
            return
        if not calls:
            yield TurnEvent(TurnEventKind.DONE, text, message_id, conversation_id)
            return
        messages.append(ChatMessage("assistant", text, tool_calls=calls))
        for call in calls:
            result, row_id, status = await _run_call(user_id, conversation_id, channel, call)
            yield TurnEvent(
                TurnEventKind.TOOL_RESULT,
                result,
                row_id,
                conversation_id,
                {"name": call.name, "arguments": call.arguments, "status": status},
            )
            messages.append(ChatMessage("tool", result, tool_call_id=call.id, name=call.name))
    yield await _notice(
        user_id,
        conversation_id,
        f"I stopped after {MAX_STEPS} tool steps without finishing. Ask me to continue if needed.",
        channel,
    )


# What the model is told of a call that waits for the person's answer, by channel.
_WAITING_TEXT = {
    "web": "Waiting: the person has been asked to confirm this in the chat. Nothing has "
    "happened yet; tell them to press Confirm if they want it.",
    "telegram": "Waiting: the person has been asked to confirm this with Confirm and Cancel "
    "buttons sent under your reply in this Telegram chat. Nothing has happened yet; do not say "
    "it is done. Tell them to press Confirm below if they want it.",
    "whatsapp": "Waiting: the person has been asked to confirm this with Confirm and Cancel "
    "buttons sent after your reply in this WhatsApp chat. Nothing has happened yet; do not say "
    "it is done. Tell them to press Confirm below if they want it.",
}


async def _run_call(
    user_id: int, conversation_id: int, channel: str, call: ToolCall
) -> tuple[str, int, MessageStatus]:
    tool = get_tool(call.name)
    args_json = json.dumps(call.arguments, ensure_ascii=False)[:8000]
    status = MessageStatus.COMPLETE
    if tool is None or tool not in await asyncio.to_thread(tools_for, user_id):
        result = f"{FAILURE_PREFIX}there is no tool named {call.name}."
        status = MessageStatus.FAILED
    elif tool.needs_confirmation and channel not in CHANNELS_WITH_CONFIRMATION:
        result = (
            f"Refused: {call.name} needs the person's confirmation, which cannot be asked for "
            f"here. Nothing was changed. Suggest asking for it in a chat (the web app, "
            f"Telegram or WhatsApp), where they can confirm."
        )
        status = MessageStatus.REFUSED
    elif tool.needs_confirmation:
        result = _WAITING_TEXT.get(channel, _WAITING_TEXT["web"])
        status = MessageStatus.AWAITING_CONFIRMATION
    else:
        ctx = ToolContext(user_id=user_id, conversation_id=conversation_id, channel=channel)
        outcome = await run_tool(tool, ctx, call.arguments)
        result = outcome.text[:MAX_TOOL_RESULT_CHARS]
        status = MessageStatus.FAILED if outcome.failed else MessageStatus.COMPLETE
    row = await asyncio.to_thread(
        history.add_message,
        user_id,
        conversation_id,
        "tool",
        result,
        channel=channel,
        status=status,
        tool_name=call.name,
        tool_call_id=call.id[:100],
        tool_args=args_json,
    )
    return result, row.id, status


async def confirm_tool_call(user_id: int, message_id: int, approve: bool, channel: str = "web") -> str:
    """The person's answer to a tool call waiting for confirmation: the web chat's buttons, or
    a Telegram/WhatsApp button press (`channel`, vopix/channels/confirmations.py). Raises
    NotFound when nothing of this person's waits there (the action runs at most once)."""
    row = await asyncio.to_thread(history.get_message, user_id, message_id)
    if row.role != "tool" or not row.tool_name or not await asyncio.to_thread(
        history.claim_status,
        user_id,
        message_id,
        MessageStatus.AWAITING_CONFIRMATION,
        MessageStatus.CONFIRMING,
    ):
        # Not waiting, or another tab's click got there first: the action runs once.
        raise history.NotFound("nothing is waiting for confirmation here")
    tool = get_tool(row.tool_name)
    if not approve or tool is None:
        result = "Cancelled by the person. Nothing was changed."
        status = MessageStatus.CANCELLED
    else:
        ctx = ToolContext(user_id, row.conversation_id, channel, confirmed=True)
        outcome = await run_tool(tool, ctx, json.loads(row.tool_args or "{}"))
        result = outcome.text[:MAX_TOOL_RESULT_CHARS]
        status = MessageStatus.FAILED if outcome.failed else MessageStatus.COMPLETE
    await asyncio.to_thread(history.update_message, user_id, message_id, content=result, status=status)
    return result
