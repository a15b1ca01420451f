"""Telegram: storing updates, answering them through the Bot API (python-telegram-bot), the
webhook set-up and the polling mode."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.request import HTTPXRequest

from vopix.channels import confirmations, links, queue, telegram_pace, turns
from vopix.channels.formatting import markdown_to_telegram_html, split_for_telegram
from vopix.channels.telegram_protocol import (
    InboundTelegram,
    MalformedPayload,
    confirm_callback_data,
    deep_link,
    parse_confirm_callback,
    parse_update,
)
from vopix.core import attachments, http
from vopix.core.kinds import InboundStage
from vopix.core.workspace.base import FileTooLarge, WorkspaceError
from vopix.core.workspace.meter import too_large_message
from vopix.settings import get_settings

log = logging.getLogger("vopix.channels.telegram")
T = TypeVar("T")

CHANNEL = "telegram"
WEBHOOK_PATH = "/api/telegram/webhook"
PACE_SECONDS = 1.0  # Telegram allows about one message per second in a chat
MAX_RETRY_WAIT = 60.0
MAX_TRIES = 5
TYPING_EVERY = 4.0  # the indicator lasts 5 seconds
POLL_ERROR_WAIT = 3.0
HOW_TO_LINK = links.reply(CHANNEL, links.LinkReply.HOW_TO_LINK)
GREETING = links.reply(CHANNEL, links.LinkReply.GREETING)
# The updates VOPIX asks Telegram for: messages, and presses on its Confirm/Cancel buttons.
ALLOWED_UPDATES = ["message", "callback_query"]


def enabled() -> bool:
    return bool(get_settings().telegram_bot_token)


def link_url(code: str) -> str:
    username = get_settings().telegram_bot_username
    if not username:
        raise ValueError("VOPIX_TELEGRAM_BOT_USERNAME is not set")
    return deep_link(username, code)


def get_bot() -> Bot:
    """This event loop's Bot, kept in the shared pool (python-telegram-bot brings its own HTTP
    client, HTTPXRequest; `http.close_all()` shuts it down with the others at app stop)."""
    cfg = get_settings()

    def make() -> Bot:
        return Bot(
            cfg.telegram_bot_token,
            base_url=f"{cfg.telegram_api_base_url}/bot",
            base_file_url=f"{cfg.telegram_api_base_url}/file/bot",
            request=HTTPXRequest(connection_pool_size=64, read_timeout=20, pool_timeout=10),
            get_updates_request=HTTPXRequest(connection_pool_size=2, read_timeout=40),
        )

    key = ("telegram-bot", cfg.telegram_bot_token, cfg.telegram_api_base_url)
    return http.pooled(key, make, Bot.shutdown)


# --------------------------------------------------------------------------- inbound


def new_event(data: object, raw: str | None = None) -> queue.NewEvent | None:
    """Validate an update (MalformedPayload if it is not one); None if it carries no message.
    `raw` is the JSON text as received, stored as is."""
    inbound = parse_update(data, None)
    if inbound is None:
        return None
    assert isinstance(data, dict)
    payload: dict[str, Any] | str = raw if raw is not None else data
    return queue.NewEvent(str(inbound.update_id), payload, links.sender_hash(CHANNEL, inbound.chat_id))


def store_update(data: object) -> int:
    """Store one update durably (duplicates ignored). Returns 1 if it was new."""
    event = new_event(data)
    return queue.store_events(CHANNEL, [event]) if event else 0


async def handle(event: queue.Claimed) -> None:
    try:
        inbound = parse_update(event.payload, None)
    except MalformedPayload:
        inbound = None
    if inbound is not None and inbound.kind == "callback" and inbound.callback_id:
        await _press(event, inbound)
        return
    if inbound is None or inbound.chat_type != "private":
        await asyncio.to_thread(queue.finish, event.id, "ignored")
        return
    transport = TelegramTransport()
    to = str(inbound.chat_id)
    if event.stage != InboundStage.RECEIVED and event.user_id is not None:
        await turns.answer(event, transport, event.user_id, to, inbound.text or "")
        return
    user_id = await asyncio.to_thread(links.find_user, CHANNEL, to)
    if inbound.kind == "command_start":
        has_payload = (inbound.text or "").strip().lower() not in ("/start", "")
        if inbound.start_code or has_payload:
            name = f"@{inbound.username}" if inbound.username else (inbound.first_name or "")
            await _redeem(event, transport, to, inbound.start_code or "", name)
        elif user_id is not None:
            await transport.send_plain(to, GREETING)
            await asyncio.to_thread(queue.finish, event.id, "greeted", user_id=user_id)
        else:
            await turns.reply_unlinked(event, transport, to, HOW_TO_LINK)
        return
    if user_id is None:
        await turns.reply_unlinked(event, transport, to, HOW_TO_LINK)
        return
    if inbound.kind in turns.SAVED_KINDS and inbound.file_id:
        await turns.answer_with_file(
            event, transport, user_id, to, inbound.text or "", inbound.file_name,
            lambda: download(transport.bot, inbound), default=_default_name(inbound),
        )
        return
    if inbound.kind != "text" or not (inbound.text or "").strip():
        await transport.send_plain(to, turns.NOT_HANDLED.get(inbound.kind, turns.NOT_HANDLED["other"]))
        await asyncio.to_thread(queue.finish, event.id, "not_handled", user_id=user_id)
        return
    await turns.answer(event, transport, user_id, to, inbound.text or "")


def _default_name(inbound: InboundTelegram) -> str:
    return attachments.PHOTO_NAME if inbound.kind == "photo" else attachments.DEFAULT_NAME


async def download(bot: Bot, inbound: InboundTelegram) -> bytes:
    """A photo's or document's bytes: getFile, then the file download. A file over the largest
    the workspace keeps is refused before a byte is fetched (Telegram gives its size)."""
    max_file = get_settings().max_file_bytes
    shown = inbound.file_name or _default_name(inbound)
    if inbound.file_size and inbound.file_size > max_file:
        raise FileTooLarge(too_large_message(shown, inbound.file_size, max_file))
    try:
        tg_file = await call_with_retry(lambda: bot.get_file(inbound.file_id or ""))
    except BadRequest as exc:  # "file is too big" (over the Bot API's 20 MB) or gone
        raise WorkspaceError(f"Telegram would not hand over “{shown}” ({exc.message[:120]}).") from None
    if tg_file.file_size and tg_file.file_size > max_file:
        raise FileTooLarge(too_large_message(shown, tg_file.file_size, max_file))
    data = bytes(await call_with_retry(tg_file.download_as_bytearray))
    if len(data) > max_file:
        raise FileTooLarge(too_large_message(shown, len(data), max_file))
    return data


async def _press(event: queue.Claimed, inbound: InboundTelegram) -> None:
    """A press on an inline keyboard button (a Confirm or Cancel of ours, in a private chat)."""
    transport = TelegramTransport()
    target = parse_confirm_callback(inbound.callback_data)
    press = confirmations.Press(
        to=str(inbound.chat_id), target=target[0] if target else None,
        approve=bool(target and target[1]), ack_ref=inbound.callback_id or "",
        prompt_ref=inbound.message_id,
    )
    if inbound.chat_type != "private":  # not a chat of ours: only stop the spinner
        with contextlib.suppress(TelegramError):
            await transport.acknowledge(press, "")
        await asyncio.to_thread(queue.finish, event.id, "ignored")
        return
    await confirmations.handle_press(event, transport, press)


async def _redeem(event: queue.Claimed, transport: TelegramTransport, to: str, code: str, name: str) -> None:
    try:
        user_id = await asyncio.to_thread(links.redeem, CHANNEL, code, to, name)
    except links.LinkRefused as refused:
        await transport.send_plain(to, links.reply(CHANNEL, refused.reason))
        await asyncio.to_thread(queue.finish, event.id, "link_refused")
        return
    await transport.send_plain(to, links.reply(CHANNEL, links.LinkReply.LINKED))
    await asyncio.to_thread(queue.finish, event.id, "linked", user_id=user_id)


# --------------------------------------------------------------------------- outbound


def _retry_seconds(exc: RetryAfter) -> float:
    value: Any = getattr(exc, "_retry_after", None)
    if value is None:
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _retryable(exc: Exception) -> http.Retry | None:
    """429 with its retry_after, and network errors; a refusal (BadRequest is a NetworkError
    in python-telegram-bot) or any other error is final."""
    if isinstance(exc, RetryAfter):
        return http.Retry(_retry_seconds(exc))
    if isinstance(exc, NetworkError) and not isinstance(exc, BadRequest):
        return http.Retry()
    return None


def _policy() -> http.RetryPolicy:
    # Built when used: tests shorten MAX_RETRY_WAIT.
    return http.RetryPolicy(
        attempts=MAX_TRIES, base_delay=1.0, max_delay=10.0, max_retry_after=MAX_RETRY_WAIT
    )


async def call_with_retry(fn: Callable[[], Awaitable[T]]) -> T:
    """Honour 429 retry_after (capped) and retry network errors with a short backoff."""
    return await http.retry(fn, _policy(), _retryable)


class TelegramTransport:
    channel = CHANNEL

    def __init__(self) -> None:
        self.bot = get_bot()

    async def _pace(self, to: str) -> None:
        """Telegram's limits: a second between messages in a chat, ~30 a second for the bot,
        shared by every process of the deployment (telegram_pace.py)."""
        await telegram_pace.pace(to, PACE_SECONDS)

    async def send_plain(self, to: str, text: str) -> None:
        for part in split_for_telegram(text):
            await self._pace(to)
            try:
                await call_with_retry(lambda part=part: self.bot.send_message(int(to), part))
            except (BadRequest, Forbidden) as exc:
                log.warning("telegram: reply refused (%s)", type(exc).__name__)
                return

    async def render(self, to: str, user_id: int, markdown: str) -> list[tuple[str, str]]:
        return [("text", part) for part in split_for_telegram(markdown)]

    async def _send_markdown(self, chat_id: int, part: str) -> int:
        html = markdown_to_telegram_html(part)
        try:
            msg = await call_with_retry(lambda: self.bot.send_message(chat_id, html, parse_mode="HTML"))
        except BadRequest as exc:
            if "parse entities" not in str(exc).lower():
                raise
            msg = await call_with_retry(lambda: self.bot.send_message(chat_id, part))
        return msg.message_id

    async def _send_prompt(self, chat_id: int, body: str) -> int:
        """A waiting call's question with its Confirm and Cancel buttons (inline keyboard)."""
        message_id, text = confirmations.read_prompt(body)
        keyboard = InlineKeyboardMarkup([[
            InlineKeyboardButton(title, callback_data=confirm_callback_data(message_id, approve))
            for title, approve in ((confirmations.CONFIRM_TITLE, True), (confirmations.CANCEL_TITLE, False))
        ]])
        msg = await call_with_retry(lambda: self.bot.send_message(chat_id, text, reply_markup=keyboard))
        return msg.message_id

    async def _edit(self, chat_id: int, body: str) -> int:
        """Show a press's outcome in the question's own message: its text replaced, its buttons
        gone. A message Telegram will not edit (deleted, too old) gets a new message instead."""
        data = json.loads(body)
        prompt, text = int(data.get("prompt") or 0), str(data["text"])
        if prompt:
            try:
                await call_with_retry(
                    lambda: self.bot.edit_message_text(text, chat_id=chat_id, message_id=prompt)
                )
                return prompt
            except BadRequest as exc:
                if "not modified" in str(exc).lower():
                    return prompt
                log.info("telegram: could not edit a question (%s); sending the outcome", exc.message[:80])
        msg = await call_with_retry(lambda: self.bot.send_message(chat_id, text))
        return msg.message_id

    async def _send(self, item: queue.Outbound, chat_id: int) -> int:
        if item.kind == confirmations.PROMPT_KIND:
            return await self._send_prompt(chat_id, item.body)
        if item.kind == "edit":
            return await self._edit(chat_id, item.body)
        if item.kind == "plain":
            return (await call_with_retry(lambda: self.bot.send_message(chat_id, item.body))).message_id
        return await self._send_markdown(chat_id, item.body)

    async def acknowledge(self, press: confirmations.Press, text: str) -> None:
        """answerCallbackQuery: the button stops spinning, the text shows briefly."""
        await self.bot.answer_callback_query(press.ack_ref, text=text[:200] or None)

    def result_parts(
        self, press: confirmations.Press, outcome: confirmations.Outcome
    ) -> list[tuple[str, str]]:
        """The question's message edited to show the outcome (its keyboard gone); what does not
        fit in one message follows as plain messages."""
        full = f"{outcome.question}\n\n{outcome.text}" if outcome.question else outcome.text
        first, *rest = split_for_telegram(full) or [outcome.text]
        edit = json.dumps({"prompt": press.prompt_ref, "text": first}, ensure_ascii=False)
        return [("edit", edit), *(("plain", part) for part in rest)]

    async def deliver(self, item: queue.Outbound, to: str, event_id: int | None, *,
                      before_send: Callable[[], Awaitable[None]] | None = None) -> None:
        """`before_send`: awaited once the pacing slot is ours, just before the request (a
        task's run is marked 'sending' only then: a send still waiting can be made again)."""
        await self._pace(to)
        if before_send is not None:
            await before_send()
        try:
            message_id = await self._send(item, int(to))
        except Forbidden:
            await asyncio.to_thread(queue.mark_failed, item.id, "blocked by the person")
            return
        except BadRequest as exc:
            await asyncio.to_thread(queue.mark_failed, item.id, f"refused: {exc.message[:200]}")
            return
        await asyncio.to_thread(queue.mark_sent, item.id, str(message_id))

    @contextlib.asynccontextmanager
    async def typing(self, to: str) -> AsyncIterator[None]:
        async def keep_typing() -> None:
            while True:
                with contextlib.suppress(TelegramError):
                    await self.bot.send_chat_action(int(to), "typing")
                await asyncio.sleep(TYPING_EVERY)

        task = asyncio.create_task(keep_typing())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


# --------------------------------------------------------------------------- set-up and polling


async def set_webhook(url: str | None = None) -> str:
    cfg = get_settings()
    if not cfg.telegram_webhook_secret:
        raise ValueError("set VOPIX_TELEGRAM_WEBHOOK_SECRET first (1-256 characters of A-Za-z0-9_-)")
    target = url or f"{cfg.public_url}{WEBHOOK_PATH}"
    await get_bot().set_webhook(
        url=target, secret_token=cfg.telegram_webhook_secret, allowed_updates=ALLOWED_UPDATES,
        max_connections=40,
    )
    return target


async def delete_webhook() -> None:
    await get_bot().delete_webhook(drop_pending_updates=False)


async def poll(
    on_stored: Callable[[], None], *, timeout: int = 25, stop: asyncio.Event | None = None
) -> None:
    """Long-poll getUpdates (for a VOPIX without a public URL). Each update is stored durably
    before the next call confirms it (the offset), so none is lost or answered twice."""
    bot = get_bot()
    # Polling never gives up: every failure waits the same few seconds (or Telegram's own wait).
    again = http.RetryPolicy(
        base_delay=POLL_ERROR_WAIT, max_delay=POLL_ERROR_WAIT, max_retry_after=MAX_RETRY_WAIT
    )
    await call_with_retry(lambda: bot.delete_webhook(drop_pending_updates=False))
    offset: int | None = None
    while stop is None or not stop.is_set():
        try:
            updates = await bot.get_updates(offset=offset, timeout=timeout, allowed_updates=ALLOWED_UPDATES)
        except RetryAfter as exc:
            await asyncio.sleep(again.delay(1, _retry_seconds(exc)))
            continue
        except TelegramError as exc:
            log.warning("telegram poll failed (%s); retrying", type(exc).__name__)
            await asyncio.sleep(again.delay(1))
            continue
        stored = 0
        for update in updates:
            try:
                stored += await asyncio.to_thread(store_update, update.to_dict())
            except MalformedPayload:
                log.warning("telegram poll: skipped a malformed update")
            except Exception:
                log.exception("telegram poll: could not store an update; it will come again")
                await asyncio.sleep(again.delay(1))
                break
            offset = update.update_id + 1
        if stored:
            on_stored()
