"""Fake Telegram Bot API server on 127.0.0.1 for tests.

Usage::

    with FakeTelegramAPI(token="123:abc") as fake:
        bot = telegram.Bot(fake.token, base_url=f"{fake.url}/bot",
                           base_file_url=f"{fake.url}/file/bot")
        await bot.initialize()              # getMe
        await bot.send_message(42, "hi")
        assert fake.calls_to("sendMessage")[0]["text"] == "hi"
        fake.push_update(make_text_update(1, 42, "hello"))   # served by getUpdates
        fake.fail_next("sendMessage", times=1)               # 429 retry_after=1
        await bot.send_message(42, "Delete?", reply_markup=keyboard)   # inline keyboard
        update = fake.press(2, 42, msg.message_id, "Confirm")  # a press on one of its buttons
        # answerCallbackQuery accepts the ids the fake issued, once each; editMessageText and
        # editMessageReplyMarkup change the stored message (fake.message(chat, id))

Methods are served at ``/bot<TOKEN>/<method>`` (GET query, JSON, urlencoded or
multipart bodies, as python-telegram-bot sends them). Responses follow the real API:
``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code", "description"}``.
HTML sent with ``parse_mode="HTML"`` is validated like Telegram does (supported
tags only, balanced, ``<``/``&`` escaped), and the message length limit (4096 UTF-16
units after entity parsing) is enforced.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from tests.fakes._http import LoopbackServer, Request, Response
from tests.fakes._telegram_wire import ApiError as _ApiError
from tests.fakes._telegram_wire import html_to_plain, inline_keyboard, message_text
from tests.fakes.telegram_updates import (
    make_callback_query,
    make_document_update,
    make_photo_update,
    make_start_update,
    make_text_update,
    make_voice_update,
)

__all__ = [
    "Call",
    "FakeTelegramAPI",
    "html_to_plain",
    "make_callback_query",
    "make_document_update",
    "make_photo_update",
    "make_start_update",
    "make_text_update",
    "make_voice_update",
]

DEFAULT_TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijkl"
_PATH = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)$")
_FILE_PATH = re.compile(r"^/file/bot(?P<token>[^/]+)/(?P<path>.+)$")
_STRING_PARAMS = frozenset(
    {"text", "caption", "parse_mode", "url", "secret_token", "action", "file_id",
     "ip_address", "description", "short_description", "name", "language_code",
     "callback_query_id", "inline_message_id"}
)
_CHAT_ACTIONS = frozenset(
    {"typing", "upload_photo", "record_video", "upload_video", "record_voice",
     "upload_voice", "upload_document", "choose_sticker", "find_location",
     "record_video_note", "upload_video_note"}
)

@dataclass(frozen=True)
class Call:
    method: str
    params: dict[str, Any]


def _decode_param(key: str, value: Any) -> Any:
    if not isinstance(value, str) or key in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


class FakeTelegramAPI(LoopbackServer):
    """In-process fake of the Telegram Bot API (see module docstring)."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_id: int = 7_000_000_001,
        bot_username: str = "vopix_test_bot",
        bot_name: str = "VOPIX Test",
    ) -> None:
        super().__init__()
        self.token = token
        self.bot_user: dict[str, Any] = {
            "id": bot_id, "is_bot": True, "first_name": bot_name, "username": bot_username,
            "can_join_groups": True, "can_read_all_group_messages": False,
            "supports_inline_queries": False, "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.calls: list[Call] = []
        self.webhook: dict[str, Any] = {}
        self.blocked_chats: set[int] = set()
        self._updates: list[dict[str, Any]] = []
        self._files: dict[str, tuple[str, bytes]] = {}
        self._failures: dict[str, list[tuple[int, str, int | None]]] = {}
        self._message_ids = itertools.count(1)
        self._cond = threading.Condition()
        # Every message the bot sent, as it is now (edits applied), by (chat id, message id).
        self._messages: dict[tuple[int | str, int], dict[str, Any]] = {}
        self._issued_queries: set[str] = set()  # callback query ids a press made
        self.answered_queries: dict[str, dict[str, Any]] = {}  # id -> answerCallbackQuery params

    # ------------------------------------------------------------------ test controls

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        """Params of every call to ``method`` (case-insensitive), in order."""
        with self._cond:
            return [c.params for c in self.calls if c.method.lower() == method.lower()]

    @property
    def sent_messages(self) -> list[dict[str, Any]]:
        return self.calls_to("sendMessage")

    def push_update(self, update: dict[str, Any]) -> None:
        """Queue an update for getUpdates (wakes a pending long poll)."""
        if not isinstance(update.get("update_id"), int):
            raise ValueError("update needs an integer update_id")
        with self._cond:
            self._updates.append(update)
            self._updates.sort(key=lambda u: u["update_id"])
            self._cond.notify_all()

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        with self._cond:
            return list(self._updates)

    def fail_next(
        self,
        method: str,
        times: int = 1,
        *,
        error_code: int = 429,
        description: str | None = None,
        retry_after: int | None = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with an error (default 429)."""
        if description is None:
            description = (
                f"Too Many Requests: retry after {retry_after}" if error_code == 429
                else "Bad Request"
            )
        with self._cond:
            queue = self._failures.setdefault(method.lower(), [])
            queue.extend([(error_code, description, retry_after)] * times)

    def add_file(self, file_id: str, content: bytes, file_path: str | None = None) -> None:
        """Make ``getFile(file_id)`` succeed and the file downloadable."""
        with self._cond:
            self._files[file_id] = (file_path or f"documents/file_{len(self._files)}", content)

    def message(self, chat_id: int, message_id: int) -> dict[str, Any]:
        """A message the bot sent, as the chat shows it now (edits applied)."""
        with self._cond:
            return dict(self._messages[(chat_id, message_id)])

    def messages_in(self, chat_id: int) -> list[dict[str, Any]]:
        """The bot's messages in a chat as it shows them now, oldest first."""
        with self._cond:
            return [dict(m) for (chat, _), m in sorted(self._messages.items(), key=lambda kv: kv[0][1])
                    if chat == chat_id]

    @staticmethod
    def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
        """The inline keyboard buttons of a message, row after row ([] when it has none)."""
        rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
        return [button for row in rows for button in row]

    def press(
        self, update_id: int, chat_id: int, message_id: int, button_text: str, *, user_id: int | None = None
    ) -> dict[str, Any]:
        """The update Telegram sends when the person presses the button labelled
        `button_text` under the bot's message (which must still show it); its query id may
        then be answered once."""
        message = self.message(chat_id, message_id)
        [button] = [b for b in self.buttons(message) if b.get("text") == button_text] or [None]
        if button is None:
            raise AssertionError(f"no button {button_text!r} under message {message_id}")
        extra = {"user_id": user_id} if user_id is not None else {}
        update = make_callback_query(update_id, chat_id, button["callback_data"], message=message, **extra)
        self.issue_callback(update)
        return update

    def issue_callback(self, update: dict[str, Any]) -> None:
        """Accept answerCallbackQuery for this hand-built callback update (once)."""
        with self._cond:
            self._issued_queries.add(update["callback_query"]["id"])

    def block_chat(self, chat_id: int) -> None:
        """Further sends to ``chat_id`` fail with 403 'bot was blocked by the user'."""
        self.blocked_chats.add(chat_id)

    def on_stop(self) -> None:
        with self._cond:
            self._cond.notify_all()

    # ------------------------------------------------------------------ HTTP

    def handle(self, request: Request) -> Response:
        file_match = _FILE_PATH.match(request.path)
        if file_match and request.method == "GET":
            return self._download(file_match.group("token"), file_match.group("path"))
        match = _PATH.match(request.path)
        if match is None:
            return self._error(_ApiError(404, "Not Found"))
        if match.group("token") != self.token:
            return self._error(_ApiError(401, "Unauthorized"))
        method = match.group("method")
        params = self._params(request)
        with self._cond:
            self.calls.append(Call(method, params))
            failures = self._failures.get(method.lower())
            failure = failures.pop(0) if failures else None
        if failure is not None:
            return self._error(_ApiError(*failure))
        handler = getattr(self, f"_m_{method.lower()}", None)
        if handler is None:
            return self._error(_ApiError(404, "Not Found"))
        try:
            result, description = handler(params)
        except _ApiError as exc:
            return self._error(exc)
        body: dict[str, Any] = {"ok": True, "result": result}
        if description:
            body["description"] = description
        return Response(200, body)

    def _params(self, request: Request) -> dict[str, Any]:
        params = {k: _decode_param(k, v) for k, v in request.query.items()}
        if request.content_type == "application/json" and request.body:
            decoded = request.json()
            if isinstance(decoded, dict):
                params.update(decoded)
        else:
            params.update({k: _decode_param(k, v) for k, v in request.form().items()})
        return params

    @staticmethod
    def _error(exc: _ApiError) -> Response:
        body: dict[str, Any] = {"ok": False, "error_code": exc.code, "description": exc.description}
        if exc.retry_after is not None and exc.code == 429:
            body["parameters"] = {"retry_after": exc.retry_after}
        return Response(exc.code, body)

    def _download(self, token: str, path: str) -> Response:
        if token != self.token:
            return self._error(_ApiError(401, "Unauthorized"))
        with self._cond:
            for file_path, content in self._files.values():
                if file_path == path:
                    return Response(200, raw=content, content_type="application/octet-stream")
        return self._error(_ApiError(404, "Not Found"))

    # ------------------------------------------------------------------ methods

    def _chat_id(self, params: dict[str, Any]) -> int | str:
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise _ApiError(400, "Bad Request: chat_id is empty")
        if isinstance(chat_id, int) and chat_id in self.blocked_chats:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        if not isinstance(chat_id, int) and not str(chat_id).startswith("@"):
            raise _ApiError(400, "Bad Request: chat not found")
        return chat_id

    def _message(self, chat_id: int | str, text: str, markup: dict[str, Any] | None = None) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": chat_id, "type": "private", "first_name": "Ada"}
        if isinstance(chat_id, str):
            chat = {"id": -1001234567890, "type": "channel", "title": chat_id.lstrip("@")}
        message = {
            "message_id": next(self._message_ids), "from": self.bot_user, "chat": chat,
            "date": int(time.time()), "text": text,
        }
        if markup:
            message["reply_markup"] = markup
        with self._cond:
            self._messages[(chat_id, message["message_id"])] = message
        return dict(message)

    def _sent(self, params: dict[str, Any]) -> dict[str, Any]:
        """The bot's own message that an edit names."""
        key = (self._chat_id(params), params.get("message_id"))
        with self._cond:
            message = self._messages.get(key)  # type: ignore[arg-type]
        if message is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        return message

    def _edit(self, message: dict[str, Any], text: str, markup: dict[str, Any] | None) -> dict[str, Any]:
        if text == message["text"] and markup == message.get("reply_markup"):
            raise _ApiError(400, "Bad Request: message is not modified: specified new message content"
                                 " and reply markup are exactly the same as a current content and"
                                 " reply markup of the message")
        with self._cond:
            message["text"], message["edit_date"] = text, int(time.time())
            message.pop("reply_markup", None)
            if markup:
                message["reply_markup"] = markup
            return dict(message)

    def _m_getme(self, params: dict[str, Any]) -> tuple[Any, str | None]:
        return self.bot_user, None

    def _m_sendmessage(self, params: dict[str, Any]) -> tuple[Any, str | None]:
        chat_id = self._chat_id(params)
        plain = message_text(params)
        return self._message(chat_id, plain, inline_keyboard(params)), None

    def _m_editmessagetext(self, params: dict[str, Any]) -> tuple[Any, str | None]:
        """A new text; the inline keyboard is what the call passes (none: removed)."""
        message = self._sent(params)
        return self._edit(message, message_text(params), inline_keyboard(params)), None

    def _m_editmessagereplymarkup(self, params: dict[str, Any]) -> tuple[Any, str | None]:
        message = self._sent(params)
        return self._edit(message, message["text"], inline_keyboard(params)), None

    def _m_answercallbackquery(self, params: dict[str, Any]) -> tuple[Any, str | None]:
        query_id = str(params.get("callback_query_id") or "")
        if len(str(params.get("text") or "")) > 200:
            raise _ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        with self._cond:
            if query_id not in self._issued_queries or query_id in self.answered_queries:
                raise _ApiError(400, "Bad Request: query is too old and response timeout expired"
                                     " or query ID is invalid")
            self.answered_queries[query_id] = params
        return True, None

    def _m_sendchataction(self, params: dict[str, Any]) -> tuple[Any, str | None]:
        self._chat_id(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _ApiError(400, "Bad Request: wrong parameter action in request")
        return True, None

    def _m_deletemessage(self, params: dict[str, Any]) -> tuple[Any, str | None]:
        self._chat_id(params)
        return True, None

    def _m_setmycommands(self, params: dict[str, Any]) -> tuple[Any, str | None]:
        return True, None

    def _m_setwebhook(self, params: dict[str, Any]) -> tuple[Any, str | None]:
        url = params.get("url")
        if not url:
            return self._m_deletewebhook(params)
        if not str(url).startswith("https://"):
            raise _ApiError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise _ApiError(400, "Bad Request: secret token contains unallowed characters")
        with self._cond:
            if params.get("drop_pending_updates"):
                self._updates.clear()
            self.webhook = {k: v for k, v in params.items() if v is not None}
        return True, "Webhook was set"

    def _m_deletewebhook(self, params: dict[str, Any]) -> tuple[Any, str | None]:
        with self._cond:
            had = bool(self.webhook)
            self.webhook = {}
            if params.get("drop_pending_updates"):
                self._updates.clear()
        return True, "Webhook was deleted" if had else "Webhook is already deleted"

    def _m_getwebhookinfo(self, params: dict[str, Any]) -> tuple[Any, str | None]:
        with self._cond:
            info: dict[str, Any] = {
                "url": self.webhook.get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }
            if self.webhook:
                info["max_connections"] = self.webhook.get("max_connections", 40)
                info["ip_address"] = "127.0.0.1"
                if "allowed_updates" in self.webhook:
                    info["allowed_updates"] = self.webhook["allowed_updates"]
        return info, None

    def _m_getupdates(self, params: dict[str, Any]) -> tuple[Any, str | None]:
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = max(0.0, min(50.0, float(params.get("timeout") or 0)))
        deadline = time.monotonic() + timeout
        with self._cond:
            if self.webhook:
                raise _ApiError(409, "Conflict: can't use getUpdates method while webhook is"
                                     " active; use deleteWebhook to delete the webhook first")
            if offset < 0:
                self._updates = self._updates[offset:]
            elif offset > 0:  # confirms every update with a smaller id
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and not self.closing.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            return list(self._updates[:limit]), None

    def _m_getfile(self, params: dict[str, Any]) -> tuple[Any, str | None]:
        file_id = params.get("file_id")
        with self._cond:
            found = self._files.get(str(file_id))
        if not file_id or found is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        path, content = found
        return {"file_id": file_id, "file_unique_id": f"U{abs(hash(file_id)) % 10**8}",
                "file_size": len(content), "file_path": path}, None
