"""WhatsApp Cloud API interactive reply buttons: the send body and the ids of the Confirm and
Cancel buttons of a tool call that waits for the person. Pure functions, no I/O.

A tap comes back as an inbound message of type "interactive" whose
``interactive.button_reply.id`` is the button's id (whatsapp_protocol parses it into
``WhatsAppMessage.button_id``).
"""

from __future__ import annotations

import re
from typing import Any

from vopix.channels.whatsapp_protocol import _recipient

__all__ = ["build_button_message", "confirm_button_id", "parse_confirm_button"]

#: Interactive "button" messages: up to 3 reply buttons, titles of 1-20 characters, ids of
#: 1-256, a body of 1-1024 characters.
BUTTONS_MAX = 3
BUTTON_TITLE_LIMIT = 20
BUTTON_ID_LIMIT = 256
BUTTON_BODY_LIMIT = 1024
_CONFIRM_ID = re.compile(r"(confirm|cancel):([1-9][0-9]{0,18})")


def build_button_message(to: str, text: str, buttons: list[tuple[str, str]]) -> dict[str, Any]:
    """JSON body of an interactive message with reply buttons, each (id, title)."""
    if not text or not text.strip() or len(text) > BUTTON_BODY_LIMIT:
        raise ValueError(f"button message body must be 1-{BUTTON_BODY_LIMIT} characters")
    if not 1 <= len(buttons) <= BUTTONS_MAX:
        raise ValueError(f"1-{BUTTONS_MAX} buttons")
    for button_id, title in buttons:
        if not 1 <= len(button_id) <= BUTTON_ID_LIMIT or not 1 <= len(title) <= BUTTON_TITLE_LIMIT:
            raise ValueError("button id or title out of range")
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": _recipient(to),
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": text},
            "action": {"buttons": [
                {"type": "reply", "reply": {"id": button_id, "title": title}} for button_id, title in buttons
            ]},
        },
    }


def confirm_button_id(message_id: int, approve: bool) -> str:
    """The id of a Confirm (``confirm:<id>``) or Cancel (``cancel:<id>``) reply button."""
    if not isinstance(message_id, int) or isinstance(message_id, bool) or message_id <= 0:
        raise ValueError("message id must be a positive integer")
    return f"{'confirm' if approve else 'cancel'}:{message_id}"


def parse_confirm_button(button_id: object) -> tuple[int, bool] | None:
    """(message id, approve) of a Confirm/Cancel reply button's id; None for anything else."""
    match = _CONFIRM_ID.fullmatch(button_id) if isinstance(button_id, str) else None
    if match is None:
        return None
    return int(match.group(2)), match.group(1) == "confirm"
