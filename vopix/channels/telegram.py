"""Telegram: storing updates, answering them through the Bot API (python-telegram-bot), the
webhook set-up and the polling mode."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.request import HTTPXRequest

from vopix.channels import links, queue, turns
from vopix.channels.formatting import markdown_to_telegram_html, split_for_telegram
from vopix.channels.telegram_protocol import MalformedPayload, deep_link, parse_update
from vopix.core import http
from vopix.core.kinds import InboundStage
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
_last_send: dict[str, float] = {}


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
    if inbound.kind != "text" or not (inbound.text or "").strip():
        await transport.send_plain(to, turns.NOT_HANDLED.get(inbound.kind, turns.NOT_HANDLED["other"]))
        await asyncio.to_thread(queue.finish, event.id, "not_handled", user_id=user_id)
        return
    await turns.answer(event, transport, user_id, to, inbound.text or "")


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
        wait = _last_send.get(to, 0.0) + PACE_SECONDS - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        _last_send[to] = time.monotonic()

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

    async def deliver(self, item: queue.Outbound, to: str, event_id: int | None) -> None:
        await self._pace(to)
        try:
            message_id = await self._send_markdown(int(to), item.body)
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
        url=target, secret_token=cfg.telegram_webhook_secret, allowed_updates=["message"], max_connections=40
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
            updates = await bot.get_updates(offset=offset, timeout=timeout, allowed_updates=["message"])
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
