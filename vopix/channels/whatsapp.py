"""WhatsApp Cloud API: storing webhook deliveries, answering them, the 24-hour window, and
delivery status callbacks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import mimetypes
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from vopix.channels import confirmations, links, queue, turns
from vopix.channels.formatting import whatsapp_chunks
from vopix.channels.whatsapp_buttons import build_button_message, confirm_button_id, parse_confirm_button
from vopix.channels.whatsapp_protocol import (
    REENGAGEMENT_ERROR_CODE,
    GraphError,
    WhatsAppMessage,
    build_mark_read,
    build_template_message,
    build_text_message,
    parse_graph_error,
    parse_send_response,
    parse_webhook,
)
from vopix.core import attachments, http
from vopix.core.clock import utcnow
from vopix.core.kinds import InboundStage, OutboundStatus
from vopix.core.workspace.base import FileTooLarge, WorkspaceError
from vopix.core.workspace.meter import too_large_message
from vopix.settings import get_settings

log = logging.getLogger("vopix.channels.whatsapp")

CHANNEL = "whatsapp"
WINDOW = timedelta(hours=24)
MAX_TRIES = 5
MAX_RETRY_WAIT = 60.0
TEXT_TYPES = ("text", "button", "interactive")
HOW_TO_LINK = links.reply(CHANNEL, links.LinkReply.HOW_TO_LINK)
POOL = "whatsapp"
POOL_TIMEOUT = httpx.Timeout(20.0, connect=10.0)
RETRY = http.RetryPolicy(attempts=MAX_TRIES, base_delay=1.0, max_delay=10.0, max_retry_after=MAX_RETRY_WAIT)


class GraphFailure(Exception):
    def __init__(self, status: int, error: GraphError | None, retry_after: float | None = None) -> None:
        super().__init__(f"graph api answered {status} (code {error.code if error else None})")
        self.status, self.error, self.retry_after = status, error, retry_after

    @property
    def outside_window(self) -> bool:
        return self.error is not None and self.error.code == REENGAGEMENT_ERROR_CODE


def enabled() -> bool:
    cfg = get_settings()
    return bool(cfg.whatsapp_access_token and cfg.whatsapp_phone_number_id)


def platform_number() -> str:
    """The number people write to, as shown on the Channels page."""
    return get_settings().whatsapp_number


# --------------------------------------------------------------------------- inbound


def _payload(m: WhatsAppMessage) -> dict[str, Any]:
    return {
        "id": m.id, "from": m.from_, "timestamp": int(m.timestamp.timestamp()), "type": m.type,
        "text": m.text, "name": m.profile_name or "", "voice": m.voice, "button": m.button_id,
        "media": m.media_id, "mime": m.mime_type, "filename": m.filename,
    }


def ingest(body: object) -> int:
    """Store a webhook delivery's messages (duplicates ignored) and apply its status
    callbacks. Raises MalformedPayload for a body that is not a WhatsApp webhook."""
    batch = parse_webhook(body)
    ours = get_settings().whatsapp_phone_number_id
    events = [
        queue.NewEvent(m.id, _payload(m), links.sender_hash(CHANNEL, m.from_))
        for m in batch.messages
        if not ours or m.phone_number_id == ours
    ]
    stored = queue.store_events(CHANNEL, events)
    for st in batch.statuses:
        changed = queue.apply_status(st.id, st.status, st.timestamp, st.error_title or "")
        if changed and changed[1] == OutboundStatus.FAILED and st.error_code == REENGAGEMENT_ERROR_CODE:
            turns.window_notice(changed[0], None, CHANNEL, st.timestamp, "WhatsApp refused a reply.")
    return stored


def _media_kind(kind: str, voice: bool) -> str:
    if kind in ("audio", "voice"):
        return "voice" if voice else "document"
    return {"image": "photo", "document": "document", "video": "document"}.get(kind, "other")


async def handle(event: queue.Claimed) -> None:
    p = event.payload
    to, kind, text = str(p.get("from", "")), str(p.get("type", "")), p.get("text")
    if not to:
        await asyncio.to_thread(queue.finish, event.id, "ignored")
        return
    transport = WhatsAppTransport()
    target = parse_confirm_button(p.get("button")) if kind == "interactive" else None
    if target is not None:
        await _press(event, transport, to, target)
        return
    if event.stage != InboundStage.RECEIVED and event.user_id is not None:
        await turns.answer(event, transport, event.user_id, to, text or "")
        return
    code = links.parse_link_command(text) if kind == "text" else None
    if code:
        try:
            user_id = await asyncio.to_thread(links.redeem, CHANNEL, code, to, str(p.get("name", "")))
        except links.LinkRefused as refused:
            await transport.send_plain(to, links.reply(CHANNEL, refused.reason))
            await asyncio.to_thread(queue.finish, event.id, "link_refused")
            return
        await transport.send_plain(to, links.reply(CHANNEL, links.LinkReply.LINKED))
        await asyncio.to_thread(queue.finish, event.id, "linked", user_id=user_id)
        return
    user_id = await asyncio.to_thread(links.find_user, CHANNEL, to)
    if user_id is None:
        await turns.reply_unlinked(event, transport, to, HOW_TO_LINK)
        return
    sent_at = datetime.fromtimestamp(int(p.get("timestamp") or 0), tz=UTC)
    await asyncio.to_thread(links.touch_inbound, CHANNEL, to, min(sent_at, utcnow()))
    await transport.mark_read(str(p.get("id", "")))
    media_kind = _media_kind(kind, bool(p.get("voice")))
    if media_kind in turns.SAVED_KINDS and p.get("media"):
        await turns.answer_with_file(
            event, transport, user_id, to, text or "", _file_name(p, media_kind),
            lambda: transport.download(str(p["media"]), str(p.get("filename") or "")),
            default=attachments.PHOTO_NAME if media_kind == "photo" else attachments.DEFAULT_NAME,
        )
        return
    if kind not in TEXT_TYPES or not (text or "").strip():
        reply = turns.NOT_HANDLED.get(_media_kind(kind, bool(p.get("voice"))), turns.NOT_HANDLED["other"])
        await transport.send_plain(to, reply)
        await asyncio.to_thread(queue.finish, event.id, "not_handled", user_id=user_id)
        return
    await turns.answer(event, transport, user_id, to, text or "")


def _file_name(p: dict[str, Any], media_kind: str) -> str | None:
    """The sender's file name; a photo (which has none) is photo.<the type's extension>."""
    if p.get("filename"):
        return str(p["filename"])
    ext = mimetypes.guess_extension(str(p.get("mime") or "").split(";")[0].strip()) or ""
    if media_kind == "photo":
        return "photo" + (".jpg" if ext in ("", ".jpe", ".jpeg") else ext)
    return ("file" + ext) if ext else None


async def _press(
    event: queue.Claimed, transport: WhatsAppTransport, to: str, target: tuple[int, bool]
) -> None:
    """A tap on a Confirm or Cancel reply button: a message like any other for the window."""
    p = event.payload
    if event.stage == InboundStage.RECEIVED and await asyncio.to_thread(links.find_user, CHANNEL, to):
        sent_at = datetime.fromtimestamp(int(p.get("timestamp") or 0), tz=UTC)
        await asyncio.to_thread(links.touch_inbound, CHANNEL, to, min(sent_at, utcnow()))
    press = confirmations.Press(to=to, target=target[0], approve=target[1], ack_ref=str(p.get("id", "")))
    await confirmations.handle_press(event, transport, press)


# --------------------------------------------------------------------------- outbound


def window_open(last_inbound_at: datetime | None, now: datetime | None = None) -> bool:
    return last_inbound_at is not None and (now or utcnow()) - last_inbound_at < WINDOW


class WhatsAppTransport:
    channel = CHANNEL

    async def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /{phone-number-id}/messages; 429 and 5xx are retried (Retry-After honoured)."""
        cfg = get_settings()
        base = f"{cfg.whatsapp_api_base_url}/{cfg.whatsapp_api_version}"
        url = f"{base}/{cfg.whatsapp_phone_number_id}/messages"
        headers = {"Authorization": f"Bearer {cfg.whatsapp_access_token}"}

        async def once() -> dict[str, Any]:
            response = await http.client(POOL, timeout=POOL_TIMEOUT).post(url, json=body, headers=headers)
            try:
                data = response.json()
            except ValueError:
                data = None
            if response.status_code < 300 and isinstance(data, dict):
                return data
            wait = http.parse_retry_after(response.headers.get("retry-after"))
            raise GraphFailure(response.status_code, parse_graph_error(data), wait)

        return await http.retry(once, RETRY, _retryable)

    async def download(self, media_id: str, shown: str = "") -> bytes:
        """A media message's bytes: GET /{media-id} gives its URL and size, then the URL
        (with the token) gives the bytes. Over the largest file the workspace keeps, it is
        refused before (or as soon as) the bytes pass the line."""
        cfg = get_settings()
        headers = {"Authorization": f"Bearer {cfg.whatsapp_access_token}"}
        client = http.client(POOL, timeout=POOL_TIMEOUT)
        max_file, shown = cfg.max_file_bytes, shown or "the file"

        async def info() -> dict[str, Any]:
            url = f"{cfg.whatsapp_api_base_url}/{cfg.whatsapp_api_version}/{media_id}"
            response = await client.get(url, headers=headers)
            try:
                data = response.json()
            except ValueError:
                data = None
            if response.status_code < 300 and isinstance(data, dict) and data.get("url"):
                return data
            raise GraphFailure(response.status_code, parse_graph_error(data),
                               http.parse_retry_after(response.headers.get("retry-after")))

        try:
            meta = await http.retry(info, RETRY, _retryable)
        except GraphFailure as exc:
            if exc.status == 429 or exc.status >= 500:
                raise
            raise WorkspaceError(f"WhatsApp would not hand over {shown} (HTTP {exc.status}).") from None
        size = int(meta.get("file_size") or 0)
        if size > max_file:
            raise FileTooLarge(too_large_message(shown, size, max_file))
        data = bytearray()
        async with client.stream("GET", str(meta["url"]), headers=headers) as response:
            if response.status_code >= 300:
                raise GraphFailure(response.status_code, None)
            async for piece in response.aiter_bytes():
                data += piece
                if len(data) > max_file:
                    raise FileTooLarge(too_large_message(shown, None, max_file))
        return bytes(data)

    async def send_plain(self, to: str, text: str) -> None:
        for part in whatsapp_chunks(text):
            try:
                await self.post(build_text_message(to, part))
            except (GraphFailure, httpx.HTTPError) as exc:
                log.warning("whatsapp: reply refused (%s)", type(exc).__name__)
                return

    async def mark_read(self, message_id: str) -> None:
        if message_id:
            with contextlib.suppress(GraphFailure, httpx.HTTPError):
                await self.post(build_mark_read(message_id))

    async def render(self, to: str, user_id: int, markdown: str) -> list[tuple[str, str]]:
        link = await asyncio.to_thread(links.get_link, user_id, CHANNEL)
        if link is None or not window_open(link.last_inbound_at):
            return [("template", "")]
        return [("text", part) for part in whatsapp_chunks(markdown)]

    async def acknowledge(self, press: confirmations.Press, text: str) -> None:
        """A tap needs no answer on WhatsApp; it is marked read (blue ticks)."""
        await self.mark_read(press.ack_ref)

    def result_parts(
        self, press: confirmations.Press, outcome: confirmations.Outcome
    ) -> list[tuple[str, str]]:
        return [("text", part) for part in whatsapp_chunks(outcome.text)]

    @staticmethod
    def _body(item: queue.Outbound, to: str) -> dict[str, Any]:
        if item.kind != confirmations.PROMPT_KIND:
            return build_text_message(to, item.body)
        message_id, text = confirmations.read_prompt(item.body)
        return build_button_message(to, text, [
            (confirm_button_id(message_id, True), confirmations.CONFIRM_TITLE),
            (confirm_button_id(message_id, False), confirmations.CANCEL_TITLE),
        ])

    async def deliver(self, item: queue.Outbound, to: str, event_id: int | None) -> None:
        if item.kind == "template":
            await self._send_template(item, to, event_id)
            return
        try:
            data = await self.post(self._body(item, to))
        except GraphFailure as exc:
            if not exc.outside_window:
                reason = exc.error.message if exc.error else f"HTTP {exc.status}"
                await asyncio.to_thread(queue.mark_failed, item.id, reason)
                return
            await asyncio.to_thread(queue.mark_failed, item.id, "outside the 24-hour window")
            if event_id is not None:
                await asyncio.to_thread(queue.skip_queued, event_id, "outside the 24-hour window")
                await asyncio.to_thread(
                    queue.queue_reply, event_id, item.user_id, CHANNEL, [("template", "")]
                )
            return
        await asyncio.to_thread(queue.mark_sent, item.id, parse_send_response(data))

    async def _send_template(self, item: queue.Outbound, to: str, event_id: int | None) -> None:
        cfg = get_settings()
        conversation_id = await asyncio.to_thread(queue.conversation_of, event_id)
        if not cfg.whatsapp_template_name:
            await asyncio.to_thread(
                queue.mark_failed, item.id, "no template configured", OutboundStatus.SKIPPED
            )
            reason = "No template message is configured, so nothing was sent there."
        else:
            try:
                data = await self.post(
                    build_template_message(to, cfg.whatsapp_template_name, cfg.whatsapp_template_language)
                )
            except GraphFailure as exc:
                await asyncio.to_thread(queue.mark_failed, item.id, exc.error.message if exc.error else "")
                reason = "Even the template message was refused."
            else:
                await asyncio.to_thread(queue.mark_sent, item.id, parse_send_response(data))
                reason = "A short template message told you there is a reply waiting."
        await asyncio.to_thread(turns.window_notice, item.user_id, conversation_id, CHANNEL, utcnow(), reason)

    @contextlib.asynccontextmanager
    async def typing(self, to: str) -> AsyncIterator[None]:
        yield


def _retryable(exc: Exception) -> http.Retry | None:
    """Connection failures, 429 and 5xx (with the server's Retry-After); the rest is final."""
    if isinstance(exc, httpx.TransportError):
        return http.Retry()
    if isinstance(exc, GraphFailure) and (exc.status == 429 or exc.status >= 500):
        return http.Retry(exc.retry_after)
    return None
