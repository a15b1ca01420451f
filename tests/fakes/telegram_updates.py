"""Builders for real-shaped Telegram ``Update`` JSON objects (as sent by Telegram)."""

from __future__ import annotations

import random
import time
from typing import Any

DEFAULT_USER_ID = 111_222_333
DEFAULT_FIRST_NAME = "Ada"


def _user(user_id: int, first_name: str, username: str | None) -> dict[str, Any]:
    user: dict[str, Any] = {
        "id": user_id,
        "is_bot": False,
        "first_name": first_name,
        "language_code": "en",
    }
    if username:
        user["username"] = username
    return user


def _message_update(
    update_id: int,
    chat_id: int,
    *,
    user_id: int,
    first_name: str,
    username: str | None,
    message_id: int | None,
    date: int | None,
    chat_type: str,
    fields: dict[str, Any],
) -> dict[str, Any]:
    chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
    if chat_type == "private":
        chat["first_name"] = first_name
        if username:
            chat["username"] = username
    else:
        chat["title"] = "Test group"
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id if message_id is not None else update_id,
            "from": _user(user_id, first_name, username),
            "chat": chat,
            "date": date if date is not None else int(time.time()),
            **fields,
        },
    }


def make_text_update(
    update_id: int,
    chat_id: int,
    text: str,
    *,
    user_id: int = DEFAULT_USER_ID,
    first_name: str = DEFAULT_FIRST_NAME,
    username: str | None = None,
    message_id: int | None = None,
    date: int | None = None,
    chat_type: str = "private",
) -> dict[str, Any]:
    """A private-chat text message; ``/commands`` get a ``bot_command`` entity."""
    fields: dict[str, Any] = {"text": text}
    if text.startswith("/"):
        command = text.split()[0]
        fields["entities"] = [
            {"offset": 0, "length": len(command.encode("utf-16-le")) // 2, "type": "bot_command"}
        ]
    return _message_update(
        update_id, chat_id, user_id=user_id, first_name=first_name, username=username,
        message_id=message_id, date=date, chat_type=chat_type, fields=fields,
    )


def make_start_update(
    update_id: int,
    chat_id: int,
    code: str | None,
    *,
    user_id: int = DEFAULT_USER_ID,
    first_name: str = DEFAULT_FIRST_NAME,
    username: str | None = None,
    message_id: int | None = None,
    date: int | None = None,
) -> dict[str, Any]:
    """What a deep link ``t.me/<bot>?start=<code>`` produces: text ``/start <code>``."""
    text = f"/start {code}" if code else "/start"
    return make_text_update(
        update_id, chat_id, text, user_id=user_id, first_name=first_name, username=username,
        message_id=message_id, date=date,
    )


def make_photo_update(
    update_id: int,
    chat_id: int,
    *,
    file_id: str = "AgACAgIAAxkBAAIBZ2VhbGxvcGhvdG8",
    caption: str | None = None,
    user_id: int = DEFAULT_USER_ID,
    first_name: str = DEFAULT_FIRST_NAME,
    username: str | None = None,
    message_id: int | None = None,
    date: int | None = None,
) -> dict[str, Any]:
    """A photo message with three sizes; the largest has ``file_id``."""
    sizes = [
        {"file_id": f"{file_id}-s", "file_unique_id": "AQADs1", "file_size": 1_201,
         "width": 90, "height": 68},
        {"file_id": f"{file_id}-m", "file_unique_id": "AQADm1", "file_size": 15_932,
         "width": 320, "height": 240},
        {"file_id": file_id, "file_unique_id": "AQADx1", "file_size": 71_114,
         "width": 1280, "height": 960},
    ]
    fields: dict[str, Any] = {"photo": sizes}
    if caption is not None:
        fields["caption"] = caption
    return _message_update(
        update_id, chat_id, user_id=user_id, first_name=first_name, username=username,
        message_id=message_id, date=date, chat_type="private", fields=fields,
    )


def make_voice_update(
    update_id: int,
    chat_id: int,
    *,
    file_id: str = "AwACAgIAAxkBAAIBaGVoZWxsb3ZvaWNl",
    duration: int = 3,
    user_id: int = DEFAULT_USER_ID,
    first_name: str = DEFAULT_FIRST_NAME,
    username: str | None = None,
    message_id: int | None = None,
    date: int | None = None,
) -> dict[str, Any]:
    """A voice note (OGG/Opus)."""
    voice = {
        "duration": duration,
        "mime_type": "audio/ogg",
        "file_id": file_id,
        "file_unique_id": "AgADvoice1",
        "file_size": 9_876,
    }
    return _message_update(
        update_id, chat_id, user_id=user_id, first_name=first_name, username=username,
        message_id=message_id, date=date, chat_type="private", fields={"voice": voice},
    )


def make_document_update(
    update_id: int,
    chat_id: int,
    *,
    file_id: str = "BQACAgIAAxkBAAIBaWVkb2N1bWVudA",
    file_name: str = "report.pdf",
    mime_type: str = "application/pdf",
    caption: str | None = None,
    user_id: int = DEFAULT_USER_ID,
    first_name: str = DEFAULT_FIRST_NAME,
    message_id: int | None = None,
    date: int | None = None,
) -> dict[str, Any]:
    document = {
        "file_name": file_name,
        "mime_type": mime_type,
        "file_id": file_id,
        "file_unique_id": "AgADdoc1",
        "file_size": 48_213,
    }
    fields: dict[str, Any] = {"document": document}
    if caption is not None:
        fields["caption"] = caption
    return _message_update(
        update_id, chat_id, user_id=user_id, first_name=first_name, username=None,
        message_id=message_id, date=date, chat_type="private", fields=fields,
    )


def make_callback_query(
    update_id: int,
    chat_id: int,
    data: str,
    *,
    message: dict[str, Any] | None = None,
    message_id: int = 1,
    text: str = "Delete README.md?",
    query_id: str | None = None,
    user_id: int = DEFAULT_USER_ID,
    first_name: str = DEFAULT_FIRST_NAME,
    username: str | None = None,
    bot_user: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A press on an inline keyboard button, as Telegram delivers it: ``callback_query`` with
    the presser, the bot's message that carries the button (``message``, or a minimal one
    built from ``message_id``/``text``), a ``chat_instance`` and the button's ``data``.
    ``query_id`` is the id to pass to answerCallbackQuery (random by default: tests that use
    the fake server let it issue ids, see FakeTelegramAPI.press)."""
    if message is None:
        chat: dict[str, Any] = {"id": chat_id, "type": "private", "first_name": first_name}
        if username:
            chat["username"] = username
        message = {
            "message_id": message_id,
            "from": bot_user or {"id": 7_000_000_001, "is_bot": True, "first_name": "VOPIX Test",
                                 "username": "vopix_test_bot"},
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
    return {
        "update_id": update_id,
        "callback_query": {
            "id": query_id or str(random.randrange(10**17, 10**19)),
            "from": _user(user_id, first_name, username),
            "message": message,
            "chat_instance": str(-random.randrange(10**17, 10**19)),
            "data": data,
        },
    }
