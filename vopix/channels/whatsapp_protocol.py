"""WhatsApp Cloud API wire format: webhook verification, parsing and send bodies.

Pure functions, no I/O. Inbound webhooks arrive as::

    {"object": "whatsapp_business_account",
     "entry": [{"id": WABA_ID, "changes": [{"field": "messages", "value": {
         "messaging_product": "whatsapp",
         "metadata": {"display_phone_number": ..., "phone_number_id": ...},
         "contacts": [{"profile": {"name": ...}, "wa_id": ...}],
         "messages": [{"from": ..., "id": "wamid...", "timestamp": "1700000000",
                       "type": "text", "text": {"body": ...}}],
         "statuses": [{"id": "wamid...", "status": "delivered", "timestamp": ...,
                       "recipient_id": ..., "errors": [...]}]}}]}]}
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from vopix.channels.errors import MalformedPayload

__all__ = [
    "REENGAGEMENT_ERROR_CODE",
    "GraphError",
    "MalformedPayload",
    "WebhookBatch",
    "WhatsAppMessage",
    "WhatsAppStatus",
    "build_mark_read",
    "build_template_message",
    "build_text_message",
    "parse_graph_error",
    "parse_send_response",
    "parse_webhook",
    "verify_challenge",
    "verify_signature",
]

#: Graph error code for free-form messages outside the 24-hour customer-service window.
REENGAGEMENT_ERROR_CODE = 131047
TEXT_LIMIT = 4096

_SIGNATURE = re.compile(r"sha256=([0-9a-fA-F]{64})")
_CHALLENGE = re.compile(r"[A-Za-z0-9._-]{1,256}")
_PHONE = re.compile(r"\+?[0-9]{5,20}")
_MEDIA_TYPES = ("image", "audio", "voice", "video", "document", "sticker")


@dataclass(frozen=True, slots=True)
class WhatsAppMessage:
    """One inbound user message.

    ``type`` is the wire type ("text", "image", "audio", "video", "document",
    "sticker", "location", "button", "interactive", "reaction", "unsupported", ...).
    Voice notes arrive as type "audio" with ``voice=True`` (older payloads used the
    type "voice", which is reported as is, also with ``voice=True``). ``text`` holds
    the text body, a media caption, or the title of a tapped button; else None.
    ``button_id`` is the id of a tapped reply button (``interactive.button_reply``) or list
    row (``interactive.list_reply``).
    """

    id: str
    from_: str
    timestamp: datetime
    type: str
    phone_number_id: str
    text: str | None = None
    profile_name: str | None = None
    media_id: str | None = None
    mime_type: str | None = None
    filename: str | None = None
    voice: bool = False
    reply_to_id: str | None = None
    button_id: str | None = None


@dataclass(frozen=True, slots=True)
class WhatsAppStatus:
    """A status callback for a message we sent (sent/delivered/read/failed)."""

    id: str
    status: str
    timestamp: datetime
    recipient_id: str
    phone_number_id: str
    error_code: int | None = None
    error_title: str | None = None


@dataclass(frozen=True, slots=True)
class WebhookBatch:
    messages: list[WhatsAppMessage] = field(default_factory=list)
    statuses: list[WhatsAppStatus] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class GraphError:
    """The ``error`` object of a failed Graph API call."""

    code: int | None
    message: str
    details: str | None = None

    @property
    def outside_window(self) -> bool:
        return self.code == REENGAGEMENT_ERROR_CODE


# --------------------------------------------------------------------------- verification


def verify_signature(raw_body: bytes, header: str | None, app_secret: str) -> bool:
    """Check ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(raw_body, app_secret)>``.

    Constant-time; False for a missing or malformed header or an empty secret.
    """
    if not app_secret or not isinstance(header, str) or not isinstance(raw_body, bytes):
        return False
    match = _SIGNATURE.fullmatch(header.strip())
    if match is None:
        return False
    expected = hmac.new(app_secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode("ascii"), match.group(1).lower().encode("ascii"))


def verify_challenge(params: Mapping[str, str], verify_token: str) -> str | None:
    """Answer the GET subscription check: the ``hub.challenge`` to echo, or None.

    Requires ``hub.mode == "subscribe"`` and ``hub.verify_token`` equal (constant
    time) to a non-empty ``verify_token``. The challenge must be a short token of
    ``A-Za-z0-9._-`` (Meta sends digits), so echoing it cannot inject markup.
    """
    mode = params.get("hub.mode")
    token = params.get("hub.verify_token")
    challenge = params.get("hub.challenge")
    if not verify_token or not isinstance(token, str) or not isinstance(challenge, str):
        return None
    token_ok = hmac.compare_digest(token.encode("utf-8"), verify_token.encode("utf-8"))
    if mode != "subscribe" or not token_ok or not _CHALLENGE.fullmatch(challenge):
        return None
    return challenge


# --------------------------------------------------------------------------- parsing


def _dict(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedPayload(f"{what} is not an object")
    return value


def _list(value: object, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise MalformedPayload(f"{what} is not a list")
    return value


def _str(obj: dict[str, Any], key: str, what: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise MalformedPayload(f"{what}.{key} missing or not a string")
    return value


def _opt_str(obj: object, key: str) -> str | None:
    if not isinstance(obj, dict):
        return None
    value = obj.get(key)
    return value if isinstance(value, str) else None


def _timestamp(value: object, what: str) -> datetime:
    if isinstance(value, str) and value.isascii() and value.isdigit():
        seconds = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    else:
        raise MalformedPayload(f"{what}.timestamp invalid")
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise MalformedPayload(f"{what}.timestamp out of range") from None


def _message_text(msg: dict[str, Any], kind: str) -> str | None:
    if kind == "text":
        return _opt_str(msg.get("text"), "body")
    if kind in _MEDIA_TYPES:
        return _opt_str(msg.get(kind), "caption")
    if kind == "button":
        return _opt_str(msg.get("button"), "text")
    if kind == "interactive":
        inter = msg.get("interactive")
        if isinstance(inter, dict):
            for key in ("button_reply", "list_reply"):
                title = _opt_str(inter.get(key), "title")
                if title is not None:
                    return title
    return None


def _button_id(msg: dict[str, Any], kind: str) -> str | None:
    inter = msg.get("interactive") if kind == "interactive" else None
    if inter is None:
        return None
    inter = _dict(inter, "message.interactive")
    for key in ("button_reply", "list_reply"):
        reply = inter.get(key)
        if reply is not None:
            return _str(_dict(reply, f"interactive.{key}"), "id", f"interactive.{key}")
    return None


def _parse_message(
    msg: object, phone_number_id: str, names: dict[str, str]
) -> WhatsAppMessage:
    m = _dict(msg, "message")
    kind = _str(m, "type", "message")
    sender = _str(m, "from", "message")
    media = m.get(kind) if kind in _MEDIA_TYPES else None
    if media is not None and not isinstance(media, dict):
        raise MalformedPayload(f"message.{kind} is not an object")
    if kind == "text":
        _dict(m.get("text"), "message.text")
    return WhatsAppMessage(
        id=_str(m, "id", "message"),
        from_=sender,
        timestamp=_timestamp(m.get("timestamp"), "message"),
        type=kind,
        phone_number_id=phone_number_id,
        text=_message_text(m, kind),
        profile_name=names.get(sender),
        media_id=_opt_str(media, "id"),
        mime_type=_opt_str(media, "mime_type"),
        filename=_opt_str(media, "filename"),
        voice=kind == "voice" or (isinstance(media, dict) and media.get("voice") is True),
        reply_to_id=_opt_str(m.get("context"), "id"),
        button_id=_button_id(m, kind),
    )


def _parse_status(st: object, phone_number_id: str) -> WhatsAppStatus:
    s = _dict(st, "status")
    code: int | None = None
    title: str | None = None
    errors = s.get("errors")
    if errors is not None:
        errors = _list(errors, "status.errors")
        first = errors[0] if errors else None
        if isinstance(first, dict):
            raw_code = first.get("code")
            if isinstance(raw_code, int) and not isinstance(raw_code, bool):
                code = raw_code
            title = _opt_str(first, "title") or _opt_str(first, "message")
    return WhatsAppStatus(
        id=_str(s, "id", "status"),
        status=_str(s, "status", "status"),
        timestamp=_timestamp(s.get("timestamp"), "status"),
        recipient_id=_str(s, "recipient_id", "status"),
        phone_number_id=phone_number_id,
        error_code=code,
        error_title=title,
    )


def parse_webhook(body: object) -> WebhookBatch:
    """Parse a webhook POST body (already JSON-decoded) into messages and statuses.

    Changes whose ``field`` is not "messages" are ignored. Raises
    :class:`MalformedPayload` (short message, never echoing the body) on a wrong
    structure.
    """
    root = _dict(body, "body")
    if root.get("object") != "whatsapp_business_account":
        raise MalformedPayload("unexpected object type")
    messages: list[WhatsAppMessage] = []
    statuses: list[WhatsAppStatus] = []
    for entry in _list(root.get("entry"), "entry"):
        for change in _list(_dict(entry, "entry").get("changes"), "entry.changes"):
            change = _dict(change, "change")
            if change.get("field", "messages") != "messages":
                continue
            value = _dict(change.get("value"), "change.value")
            raw_messages = _list(value.get("messages", []), "value.messages")
            raw_statuses = _list(value.get("statuses", []), "value.statuses")
            if not raw_messages and not raw_statuses:
                continue
            metadata = _dict(value.get("metadata"), "metadata")
            phone_number_id = _str(metadata, "phone_number_id", "metadata")
            names: dict[str, str] = {}
            for contact in _list(value.get("contacts", []), "value.contacts"):
                wa_id = _opt_str(contact, "wa_id")
                profile = contact.get("profile") if isinstance(contact, dict) else None
                name = _opt_str(profile, "name")
                if wa_id and name:
                    names[wa_id] = name
            messages.extend(_parse_message(m, phone_number_id, names) for m in raw_messages)
            statuses.extend(_parse_status(s, phone_number_id) for s in raw_statuses)
    return WebhookBatch(messages=messages, statuses=statuses)


# --------------------------------------------------------------------------- sending


def _recipient(to: str) -> str:
    if not isinstance(to, str) or not _PHONE.fullmatch(to):
        raise ValueError("recipient must be a phone number / wa_id")
    return to.lstrip("+")


def build_text_message(to: str, text: str, *, preview_url: bool = False) -> dict[str, Any]:
    """JSON body for ``POST /{phone-number-id}/messages`` with a free-form text."""
    if not text or not text.strip():
        raise ValueError("text must not be empty")
    if len(text) > TEXT_LIMIT:
        raise ValueError(f"text longer than {TEXT_LIMIT} characters")
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": _recipient(to),
        "type": "text",
        "text": {"preview_url": preview_url, "body": text},
    }


def build_template_message(
    to: str,
    template_name: str,
    language_code: str,
    components: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """JSON body for a template message (the only kind allowed outside the 24h window)."""
    if not template_name or not language_code:
        raise ValueError("template name and language code are required")
    template: dict[str, Any] = {"name": template_name, "language": {"code": language_code}}
    if components:
        template["components"] = components
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": _recipient(to),
        "type": "template",
        "template": template,
    }


def build_mark_read(message_id: str) -> dict[str, Any]:
    """JSON body marking an inbound message as read (blue ticks)."""
    return {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}


def parse_send_response(body: object) -> str:
    """The ``wamid`` of an accepted send: ``{"messages": [{"id": ...}], ...}``."""
    root = _dict(body, "response")
    messages = _list(root.get("messages"), "response.messages")
    if not messages:
        raise MalformedPayload("response.messages is empty")
    return _str(_dict(messages[0], "response.message"), "id", "response.message")


def parse_graph_error(body: object) -> GraphError | None:
    """Extract ``{"error": {"code", "message", "error_data": {"details"}}}``, if present."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    code = error.get("code")
    data = error.get("error_data")
    return GraphError(
        code=code if isinstance(code, int) and not isinstance(code, bool) else None,
        message=_opt_str(error, "message") or "",
        details=_opt_str(data, "details"),
    )
