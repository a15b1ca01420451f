"""Fake WhatsApp Cloud (Graph) API server on 127.0.0.1, plus signed webhook builders.

Usage::

    with FakeWhatsAppAPI(access_token="EAAG-test", phone_number_id="109876543210") as fake:
        r = httpx.post(f"{fake.url}/v21.0/109876543210/messages",
                       headers={"Authorization": "Bearer EAAG-test"},
                       json=build_text_message("15551234567", "hi"))
        assert r.json()["messages"][0]["id"].startswith("wamid.")
        assert fake.sent[0]["text"]["body"] == "hi"
        fake.fail_next_outside_window()       # next send -> 400, code 131047
        fake.close_window("15551234567")      # free-form texts to that number fail

    body, headers = signed_delivery(make_text_webhook("wamid.X", "15551234567", "hello",
                                                      "109876543210"), app_secret)

Interactive "button" messages (up to 3 reply buttons) are checked as the Cloud API checks them
and recorded in ``sent``; ``fake.press(number, "Confirm")`` builds the webhook of a tap on a
button of the last one sent to that number (``make_button_reply_webhook``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
from typing import Any

from tests.fakes._http import LoopbackServer, Request, Response
from tests.fakes.whatsapp_webhooks import (
    _WINDOW_DETAILS,
    DEFAULT_DISPLAY_NUMBER,
    DEFAULT_PHONE_NUMBER_ID,
    DEFAULT_WABA_ID,
    make_audio_webhook,
    make_button_reply_webhook,
    make_image_webhook,
    make_status_webhook,
    make_text_webhook,
    sign,
    signed_delivery,
)

__all__ = [
    "DEFAULT_DISPLAY_NUMBER",
    "DEFAULT_PHONE_NUMBER_ID",
    "DEFAULT_WABA_ID",
    "FakeWhatsAppAPI",
    "make_audio_webhook",
    "make_button_reply_webhook",
    "make_image_webhook",
    "make_status_webhook",
    "make_text_webhook",
    "sign",
    "signed_delivery",
]

DEFAULT_ACCESS_TOKEN = "EAAGfakeAccessTokenForTests"
_MESSAGES_PATH = re.compile(r"^/(?P<version>v\d+\.\d+)/(?P<pnid>[0-9]+)/messages$")
_MEDIA_PATH = re.compile(r"^/(?P<version>v\d+\.\d+)/(?P<media_id>[0-9A-Za-z_.-]+)$")
_DOWNLOAD_PATH = re.compile(r"^/media-download/(?P<media_id>[0-9A-Za-z_.-]+)$")


def _graph_error(status: int, code: int, message: str, details: str | None = None) -> Response:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "A" + secrets.token_urlsafe(16),
    }
    if details is not None:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return Response(status, {"error": error})


class FakeWhatsAppAPI(LoopbackServer):
    """In-process fake of ``graph.facebook.com`` for the WhatsApp Cloud API."""

    def __init__(
        self,
        access_token: str = DEFAULT_ACCESS_TOKEN,
        phone_number_id: str = DEFAULT_PHONE_NUMBER_ID,
    ) -> None:
        super().__init__()
        self.access_token = access_token
        self.phone_number_id = phone_number_id
        self.calls: list[dict[str, Any]] = []  # every POST body received (incl. rejected)
        self.sent: list[dict[str, Any]] = []  # accepted message bodies, with "_wamid"
        self.read_receipts: list[str] = []
        self.closed_windows: set[str] = set()
        self._media: dict[str, tuple[bytes, str]] = {}
        self._failures: list[Response] = []
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ test controls

    def fail_next(
        self,
        times: int = 1,
        *,
        status: int = 400,
        code: int = 100,
        message: str = "(#100) Invalid parameter",
        details: str | None = None,
    ) -> None:
        """Answer the next ``times`` sends with a Graph error JSON."""
        with self._lock:
            self._failures.extend(
                _graph_error(status, code, message, details) for _ in range(times)
            )

    def fail_next_rate_limited(self, times: int = 1) -> None:
        """Next sends get HTTP 429 with Graph code 130429 (throughput exceeded)."""
        self.fail_next(times, status=429, code=130429, message="(#130429) Rate limit hit",
                       details="Cloud API message throughput has been reached.")

    def fail_next_outside_window(self, times: int = 1) -> None:
        """Next sends fail as free-form messages outside the 24h window (code 131047)."""
        self.fail_next(times, status=400, code=131047, message="(#131047) Re-engagement message",
                       details=_WINDOW_DETAILS)

    def close_window(self, number: str) -> None:
        """Free-form (non-template) sends to ``number`` fail with 131047 until reopened."""
        self.closed_windows.add(number)

    def open_window(self, number: str) -> None:
        self.closed_windows.discard(number)

    def add_media(self, media_id: str, content: bytes, mime_type: str = "image/jpeg") -> None:
        """Make ``GET /{version}/{media_id}`` and its download URL work."""
        with self._lock:
            self._media[media_id] = (content, mime_type)

    def texts_to(self, number: str) -> list[str]:
        return [m["text"]["body"] for m in self.sent if m["to"] == number and m["type"] == "text"]

    def interactive_to(self, number: str) -> list[dict[str, Any]]:
        """The interactive messages accepted for ``number`` (with their ``_wamid``), in order."""
        return [m for m in self.sent if m["to"] == number and m["type"] == "interactive"]

    def press(self, number: str, title: str, message_id: str | None = None, **kwargs: Any) -> dict[str, Any]:
        """The webhook of ``number`` tapping the reply button titled ``title`` under the last
        interactive message sent to it (replying to it, as ``context`` says)."""
        [*_, prompt] = self.interactive_to(number) or [None]
        if prompt is None:
            raise AssertionError(f"no interactive message was sent to {number}")
        buttons = [b["reply"] for b in prompt["interactive"]["action"]["buttons"]]
        [reply] = [b for b in buttons if b["title"] == title] or [None]
        if reply is None:
            raise AssertionError(f"no button {title!r} in the last interactive message")
        return make_button_reply_webhook(
            message_id or "wamid." + secrets.token_urlsafe(24), number, reply["id"], reply["title"],
            self.phone_number_id, context_id=prompt["_wamid"], **kwargs,
        )

    # ------------------------------------------------------------------ HTTP

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("Authorization") or ""
        return hmac.compare_digest(header.encode(), f"Bearer {self.access_token}".encode())

    def handle(self, request: Request) -> Response:
        if not self._authorized(request):
            return _graph_error(401, 190, "Invalid OAuth access token - Cannot parse access token")
        match = _MESSAGES_PATH.match(request.path)
        if match and request.method == "POST":
            return self._messages(match.group("pnid"), request)
        download = _DOWNLOAD_PATH.match(request.path)
        if download and request.method == "GET":
            media = self._media.get(download.group("media_id"))
            if media is None:
                return _graph_error(404, 100, "(#100) Media not found")
            return Response(200, raw=media[0], content_type=media[1])
        media_match = _MEDIA_PATH.match(request.path)
        if media_match and request.method == "GET":
            return self._media_info(media_match.group("media_id"))
        return _graph_error(400, 100, "Unsupported request - method type or path not supported")

    def _media_info(self, media_id: str) -> Response:
        with self._lock:
            media = self._media.get(media_id)
        if media is None:
            return _graph_error(400, 100, f"Unsupported get request. Object with ID '{media_id}'"
                                          " does not exist")
        content, mime = media
        return Response(200, {
            "messaging_product": "whatsapp", "url": f"{self.url}/media-download/{media_id}",
            "mime_type": mime, "sha256": hashlib.sha256(content).hexdigest(),
            "file_size": len(content), "id": media_id,
        })

    def _messages(self, pnid: str, request: Request) -> Response:
        try:
            body = json.loads(request.body or b"null")
        except ValueError:
            body = None
        with self._lock:
            self.calls.append(body if isinstance(body, dict) else {"_invalid": True})
            if pnid != self.phone_number_id:
                return _graph_error(400, 100, f"Unsupported post request. Object with ID"
                                              f" '{pnid}' does not exist")
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            return failure
        if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
            return _graph_error(400, 100, "(#100) The parameter messaging_product is required.")
        if body.get("status") == "read":
            if not isinstance(body.get("message_id"), str):
                return _graph_error(400, 100, "(#100) The parameter message_id is required.")
            with self._lock:
                self.read_receipts.append(body["message_id"])
            return Response(200, {"success": True})
        problem = self._validate(body)
        if problem:
            return _graph_error(400, 100, "(#100) Invalid parameter", problem)
        to = body["to"]
        if body["type"] != "template" and to in self.closed_windows:
            return _graph_error(400, 131047, "(#131047) Re-engagement message", _WINDOW_DETAILS)
        wamid = "wamid." + secrets.token_urlsafe(24)
        message: dict[str, Any] = {"id": wamid}
        if body["type"] == "template":
            message["message_status"] = "accepted"
        with self._lock:
            self.sent.append({**body, "_wamid": wamid})
        return Response(200, {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to.lstrip("+")}],
            "messages": [message],
        })

    @staticmethod
    def _validate(body: dict[str, Any]) -> str | None:
        to = body.get("to")
        if not isinstance(to, str) or not re.fullmatch(r"\+?[0-9]{5,20}", to):
            return "Param to must be a valid phone number"
        kind = body.get("type", "text")
        if kind == "text":
            text = body.get("text")
            if not isinstance(text, dict) or not isinstance(text.get("body"), str):
                return "Param text['body'] is required"
            if not text["body"].strip():
                return "Param text['body'] must not be empty"
            if len(text["body"]) > 4096:
                return "Param text['body'] must be at most 4096 characters long."
            return None
        if kind == "template":
            template = body.get("template")
            if not isinstance(template, dict) or not isinstance(template.get("name"), str):
                return "Param template['name'] is required"
            language = template.get("language")
            if not isinstance(language, dict) or not isinstance(language.get("code"), str):
                return "Param template['language']['code'] is required"
            return None
        if kind == "interactive":
            return _interactive_problem(body.get("interactive"))
        return f"Param type must be one of text, template, interactive (fake supports only these), got {kind!r}"


def _interactive_problem(inter: object) -> str | None:
    """What the Cloud API would refuse in an interactive "button" message (None: fine)."""
    if not isinstance(inter, dict) or inter.get("type") != "button":
        return "Param interactive['type'] must be button (fake supports only reply buttons)"
    body = inter.get("body")
    if not isinstance(body, dict) or not isinstance(body.get("text"), str) or not body["text"].strip():
        return "Param interactive['body']['text'] is required"
    if len(body["text"]) > 1024:
        return "Param interactive['body']['text'] must be at most 1024 characters long."
    action = inter.get("action")
    buttons = action.get("buttons") if isinstance(action, dict) else None
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        return "Param interactive['action']['buttons'] must have between 1 and 3 buttons"
    ids, titles = [], []
    for button in buttons:
        reply = button.get("reply") if isinstance(button, dict) and button.get("type") == "reply" else None
        if not isinstance(reply, dict):
            return "Param interactive['action']['buttons'][]['type'] must be reply"
        rid, title = reply.get("id"), reply.get("title")
        if not isinstance(rid, str) or not 1 <= len(rid) <= 256:
            return "Param interactive['action']['buttons'][]['reply']['id'] must be 1-256 characters"
        if not isinstance(title, str) or not 1 <= len(title) <= 20:
            return "Param interactive['action']['buttons'][]['reply']['title'] must be 1-20 characters"
        ids.append(rid)
        titles.append(title)
    if len(set(ids)) != len(ids) or len(set(titles)) != len(titles):
        return "Buttons must have unique ids and titles"
    return None
