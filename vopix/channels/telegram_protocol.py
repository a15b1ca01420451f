"""Telegram Bot API wire format: webhook secret check, update parsing, deep links.

Pure functions, no I/O. Parsing goes through python-telegram-bot v22
``telegram.Update.de_json`` and flattens the result into :class:`InboundTelegram`: a message,
or a ``callback_query`` (a press on an inline keyboard button, kind "callback").
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from telegram import CallbackQuery, Message, Update

from vopix.channels.errors import MalformedPayload

if TYPE_CHECKING:
    from telegram import Bot

__all__ = [
    "START_CODE_RE",
    "InboundTelegram",
    "MalformedPayload",
    "confirm_callback_data",
    "deep_link",
    "is_valid_start_code",
    "parse_confirm_callback",
    "parse_update",
    "verify_secret_token",
]

#: One-time codes carried by ``t.me/<bot>?start=<code>`` deep links.
START_CODE_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_USERNAME_RE = re.compile(r"[A-Za-z0-9_]{1,64}")
_START_RE = re.compile(r"/start(?:@[A-Za-z0-9_]+)?(?:\s+(\S+))?\s*", re.IGNORECASE)
#: callback_data of the Confirm ("c:<id>") and Cancel ("x:<id>") buttons; Telegram allows 1-64 bytes.
_CONFIRM_DATA_RE = re.compile(r"([cx]):([1-9][0-9]{0,18})")
CALLBACK_DATA_MAX_BYTES = 64


@dataclass(frozen=True, slots=True)
class InboundTelegram:
    """A user message flattened from a Telegram ``Update``.

    ``kind`` is one of "text", "command_start", "photo", "voice", "document",
    "callback", "other". For "command_start", ``start_code`` is the deep-link payload when it is
    a valid code (else None). ``text`` is the message text or the media caption.
    For "photo" the file fields describe the largest size; audio files are reported
    as "document". For "callback" (a button press), ``callback_id`` is the query to answer,
    ``callback_data`` the button's data, and ``message_id`` the message that carries the
    button (0 when Telegram did not include it); ``chat_id`` is that message's chat, or the
    presser's own id (a private chat's id) when the message is missing.
    """

    update_id: int
    chat_id: int
    chat_type: str
    kind: str
    message_id: int
    date: datetime | None
    user_id: int | None = None
    first_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    text: str | None = None
    start_code: str | None = None
    file_id: str | None = None
    file_unique_id: str | None = None
    file_name: str | None = None
    mime_type: str | None = None
    file_size: int | None = None
    callback_id: str | None = None
    callback_data: str | None = None


def verify_secret_token(header: str | None, expected: str) -> bool:
    """Compare ``X-Telegram-Bot-Api-Secret-Token`` in constant time.

    False when no secret is configured (``expected`` empty) or the header is missing.
    """
    if not expected or not isinstance(header, str):
        return False
    return hmac.compare_digest(header.encode("utf-8"), expected.encode("utf-8"))


def is_valid_start_code(code: object) -> bool:
    return isinstance(code, str) and START_CODE_RE.fullmatch(code) is not None


def deep_link(bot_username: str, code: str) -> str:
    """``https://t.me/<bot>?start=<code>``; ``code`` must be 1-64 chars of A-Za-z0-9_-."""
    username = bot_username.removeprefix("@")
    if not _USERNAME_RE.fullmatch(username):
        raise ValueError("invalid bot username")
    if not is_valid_start_code(code):
        raise ValueError("start code must be 1-64 characters of A-Za-z0-9_-")
    return f"https://t.me/{username}?start={code}"


def confirm_callback_data(message_id: int, approve: bool) -> str:
    """The callback_data of a Confirm (``c:<id>``) or Cancel (``x:<id>``) button for the
    waiting tool call stored as message ``message_id``: short, well under 64 bytes."""
    if not isinstance(message_id, int) or isinstance(message_id, bool) or message_id <= 0:
        raise ValueError("message id must be a positive integer")
    data = f"{'c' if approve else 'x'}:{message_id}"
    if len(data.encode()) > CALLBACK_DATA_MAX_BYTES:
        raise ValueError("callback data too long")
    return data


def parse_confirm_callback(data: object) -> tuple[int, bool] | None:
    """(message id, approve) of a Confirm/Cancel button's data; None for anything else."""
    if not isinstance(data, str):
        return None
    match = _CONFIRM_DATA_RE.fullmatch(data)
    if match is None:
        return None
    return int(match.group(2)), match.group(1) == "c"


def _file_fields(message: Message) -> tuple[str, dict[str, Any]]:
    if message.photo:
        largest = message.photo[-1]
        return "photo", {
            "file_id": largest.file_id,
            "file_unique_id": largest.file_unique_id,
            "file_size": largest.file_size,
            "mime_type": "image/jpeg",
        }
    if message.voice:
        v = message.voice
        return "voice", {
            "file_id": v.file_id,
            "file_unique_id": v.file_unique_id,
            "file_size": v.file_size,
            "mime_type": v.mime_type,
        }
    doc = message.document or message.audio
    if doc:
        return "document", {
            "file_id": doc.file_id,
            "file_unique_id": doc.file_unique_id,
            "file_size": doc.file_size,
            "mime_type": doc.mime_type,
            "file_name": doc.file_name,
        }
    return "other", {}


def parse_update(data: object, bot: Bot | None) -> InboundTelegram | None:
    """Parse a webhook/getUpdates JSON object.

    Returns None for valid updates that carry no new message (edited messages,
    callback queries, membership changes, ...). Raises :class:`MalformedPayload` when
    ``data`` is not a valid Telegram update.
    """
    if not isinstance(data, dict):
        raise MalformedPayload("update is not an object")
    update_id = data.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        raise MalformedPayload("update_id missing or not an integer")
    try:
        update = Update.de_json(data, bot)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
        raise MalformedPayload("not a valid Telegram update") from None
    if update.callback_query is not None:
        return _parse_callback(update_id, update.callback_query)
    message = update.message
    if message is None:
        return None
    chat, user = message.chat, message.from_user
    if chat is None or not isinstance(chat.type, str):
        raise MalformedPayload("message.chat missing or invalid")
    for value in (message.text, message.caption):
        if value is not None and not isinstance(value, str):
            raise MalformedPayload("message text is not a string")
    kind, files = _file_fields(message)
    start_code: str | None = None
    if message.text is not None:
        kind = "text"
        start = _START_RE.fullmatch(message.text.strip())
        if start is not None:
            kind = "command_start"
            payload = start.group(1)
            start_code = payload if is_valid_start_code(payload) else None
    inbound = InboundTelegram(
        update_id=update_id,
        chat_id=chat.id,
        chat_type=str(chat.type),
        kind=kind,
        message_id=message.message_id,
        date=message.date,
        user_id=user.id if user else None,
        first_name=user.first_name if user else None,
        username=user.username if user else None,
        language_code=user.language_code if user else None,
        text=message.text if message.text is not None else message.caption,
        start_code=start_code,
        **files,
    )
    _check_types(inbound)
    return inbound


def _parse_callback(update_id: int, query: CallbackQuery) -> InboundTelegram:
    """A button press. Its message may be missing (inline-mode messages) or inaccessible (too
    old): PTB gives both kinds a chat and a message_id when present."""
    user = query.from_user
    if user is None or not isinstance(query.id, str) or not query.id:
        raise MalformedPayload("callback_query without id or sender")
    if query.data is not None and not isinstance(query.data, str):
        raise MalformedPayload("callback_query.data is not a string")
    message = query.message
    chat = message.chat if message is not None else None
    if chat is not None and not isinstance(chat.type, str):
        raise MalformedPayload("callback_query.message.chat invalid")
    inbound = InboundTelegram(
        update_id=update_id,
        chat_id=chat.id if chat is not None else user.id,
        chat_type=str(chat.type) if chat is not None else "private",
        kind="callback",
        message_id=message.message_id if message is not None else 0,
        date=None,
        user_id=user.id,
        first_name=user.first_name,
        username=user.username,
        language_code=user.language_code,
        callback_id=query.id,
        callback_data=query.data,
    )
    _check_types(inbound)
    return inbound


_REQUIRED_INT = ("chat_id", "message_id")
_OPTIONAL_INT = ("user_id", "file_size")
_OPTIONAL_STR = (
    "first_name", "username", "language_code", "text",
    "file_id", "file_unique_id", "file_name", "mime_type", "callback_id", "callback_data",
)


def _check_types(inbound: InboundTelegram) -> None:
    """PTB does not type-check JSON; reject updates whose fields have wrong types."""
    for name in (*_REQUIRED_INT, *_OPTIONAL_INT, *_OPTIONAL_STR):
        value = getattr(inbound, name)
        if name in _REQUIRED_INT:
            ok = isinstance(value, int)
        elif name in _OPTIONAL_INT:
            ok = value is None or isinstance(value, int)
        else:
            ok = value is None or isinstance(value, str)
        if not ok or isinstance(value, bool):
            raise MalformedPayload(f"{name} has the wrong type")
    if inbound.kind in ("photo", "voice", "document") and inbound.file_id is None:
        raise MalformedPayload("file_id missing")
