"""Real-shaped WhatsApp Cloud API webhook deliveries (as Meta sends them), and their signature.
Re-exported by tests/fakes/whatsapp_api.py."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from datetime import datetime
from typing import Any

DEFAULT_PHONE_NUMBER_ID = "109876543210987"
DEFAULT_WABA_ID = "102290129340398"
DEFAULT_DISPLAY_NUMBER = "15550009999"
_WINDOW_DETAILS = (
    "Message failed to send because more than 24 hours have passed since the customer "
    "last replied to this number."
)



def sign(body: bytes, app_secret: str) -> str:
    """The ``X-Hub-Signature-256`` header value for ``body``."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def signed_delivery(payload: dict[str, Any], app_secret: str) -> tuple[bytes, dict[str, str]]:
    """Serialize ``payload`` like Meta does and return ``(raw_body, headers)``."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    return body, {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, app_secret)}


def _ts(timestamp: int | datetime | None) -> str:
    if timestamp is None:
        return str(int(time.time()))
    if isinstance(timestamp, datetime):
        return str(int(timestamp.timestamp()))
    return str(int(timestamp))


def _envelope(phone_number_id: str, value: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{
            "id": DEFAULT_WABA_ID,
            "changes": [{
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {
                        "display_phone_number": DEFAULT_DISPLAY_NUMBER,
                        "phone_number_id": phone_number_id,
                    },
                    **value,
                },
                "field": "messages",
            }],
        }],
    }


def _inbound(
    phone_number_id: str, from_number: str, profile_name: str, message: dict[str, Any]
) -> dict[str, Any]:
    return _envelope(phone_number_id, {
        "contacts": [{"profile": {"name": profile_name}, "wa_id": from_number}],
        "messages": [{"from": from_number, **message}],
    })


def make_text_webhook(
    message_id: str,
    from_number: str,
    text: str,
    phone_number_id: str = DEFAULT_PHONE_NUMBER_ID,
    *,
    timestamp: int | datetime | None = None,
    profile_name: str = "Ada Lovelace",
) -> dict[str, Any]:
    return _inbound(phone_number_id, from_number, profile_name, {
        "id": message_id, "timestamp": _ts(timestamp), "type": "text", "text": {"body": text},
    })


def make_button_reply_webhook(
    message_id: str,
    from_number: str,
    button_id: str,
    title: str,
    phone_number_id: str = DEFAULT_PHONE_NUMBER_ID,
    *,
    context_id: str | None = None,
    timestamp: int | datetime | None = None,
    profile_name: str = "Ada Lovelace",
) -> dict[str, Any]:
    """A tap on a reply button of an interactive message: type "interactive" with
    ``interactive.button_reply`` (the button's id and title) and a ``context`` naming the
    message that carried the button."""
    message: dict[str, Any] = {
        "id": message_id, "timestamp": _ts(timestamp), "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": button_id, "title": title}},
    }
    if context_id is not None:
        message["context"] = {"from": DEFAULT_DISPLAY_NUMBER, "id": context_id}
    return _inbound(phone_number_id, from_number, profile_name, message)


def make_image_webhook(
    message_id: str,
    from_number: str,
    media_id: str,
    phone_number_id: str = DEFAULT_PHONE_NUMBER_ID,
    *,
    mime_type: str = "image/jpeg",
    caption: str | None = None,
    timestamp: int | datetime | None = None,
    profile_name: str = "Ada Lovelace",
) -> dict[str, Any]:
    image: dict[str, Any] = {
        "mime_type": mime_type, "sha256": secrets.token_hex(32), "id": media_id,
    }
    if caption is not None:
        image["caption"] = caption
    return _inbound(phone_number_id, from_number, profile_name, {
        "id": message_id, "timestamp": _ts(timestamp), "type": "image", "image": image,
    })


def make_document_webhook(
    message_id: str,
    from_number: str,
    media_id: str,
    phone_number_id: str = DEFAULT_PHONE_NUMBER_ID,
    *,
    filename: str = "report.pdf",
    mime_type: str = "application/pdf",
    caption: str | None = None,
    timestamp: int | datetime | None = None,
    profile_name: str = "Ada Lovelace",
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "filename": filename, "mime_type": mime_type, "sha256": secrets.token_hex(32), "id": media_id,
    }
    if caption is not None:
        document["caption"] = caption
    return _inbound(phone_number_id, from_number, profile_name, {
        "id": message_id, "timestamp": _ts(timestamp), "type": "document", "document": document,
    })


def make_audio_webhook(
    message_id: str,
    from_number: str,
    media_id: str,
    phone_number_id: str = DEFAULT_PHONE_NUMBER_ID,
    *,
    voice: bool = True,
    timestamp: int | datetime | None = None,
    profile_name: str = "Ada Lovelace",
) -> dict[str, Any]:
    """A voice note (``voice: true``, OGG/Opus) or an audio file."""
    audio = {
        "mime_type": "audio/ogg; codecs=opus" if voice else "audio/mpeg",
        "sha256": secrets.token_hex(32), "id": media_id, "voice": voice,
    }
    return _inbound(phone_number_id, from_number, profile_name, {
        "id": message_id, "timestamp": _ts(timestamp), "type": "audio", "audio": audio,
    })


def make_status_webhook(
    message_id: str,
    recipient: str,
    status: str,
    phone_number_id: str = DEFAULT_PHONE_NUMBER_ID,
    *,
    timestamp: int | datetime | None = None,
    error_code: int = 131047,
    error_title: str = "Re-engagement message",
) -> dict[str, Any]:
    """A status callback (sent/delivered/read/failed) for one of our messages."""
    entry: dict[str, Any] = {
        "id": message_id, "status": status, "timestamp": _ts(timestamp), "recipient_id": recipient,
    }
    if status == "failed":
        entry["errors"] = [{
            "code": error_code, "title": error_title, "message": error_title,
            "error_data": {"details": _WINDOW_DETAILS if error_code == 131047 else error_title},
        }]
    else:
        entry["conversation"] = {
            "id": secrets.token_hex(16), "origin": {"type": "service"},
        }
        entry["pricing"] = {"billable": True, "pricing_model": "PMP", "category": "service"}
    return _envelope(phone_number_id, {"statuses": [entry]})
