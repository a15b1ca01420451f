"""What the chat page shows of each thing it lists: plain dicts of strings for the browser."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from vopix.core import attachment_note as attachments
from vopix.core.agent.history import ConversationView, MessageView, SearchHit
from vopix.core.agent.tools import describe_call, failure_reason
from vopix.core.clock import local_time, utcnow
from vopix.core.kinds import MessageStatus, NoticeKind
from vopix.models import Notice

CHANNEL_LABELS = {"web": "", "telegram": "via Telegram", "whatsapp": "via WhatsApp"}
# Where each kind of notice sends the person, and what its link says: the page that lets them
# act on it, picked by kind (never by the text, which may change or be translated).
NOTICE_LINKS: dict[NoticeKind, tuple[str, str]] = {
    NoticeKind.SECURITY: ("/account", "Review sessions"),
    NoticeKind.QUOTA: ("/billing", "See plans and billing"),
    NoticeKind.PAYMENT_FAILED: ("/billing", "Update payment method"),
    NoticeKind.BILLING: ("/billing", "See plans and billing"),
    NoticeKind.WHATSAPP_WINDOW: ("/channels", "Open Channels"),
}


def notice_row(n: Notice) -> dict[str, str]:
    """A notice as the chat page shows it; a general notice keeps its own link, if any."""
    link, label = NOTICE_LINKS.get(n.kind, (n.link, "Open" if n.link else ""))
    return {"id": str(n.id), "text": n.text, "level": n.level, "kind": str(n.kind), "link": link,
            "label": label}


# A tool call's state as the person reads it: (label, style), by message status.
TOOL_STATES: dict[str, tuple[str, str]] = {
    MessageStatus.AWAITING_CONFIRMATION: ("Waiting for you", "waiting"),
    MessageStatus.CONFIRMING: ("Running", "waiting"),
    MessageStatus.COMPLETE: ("Done", "done"),
    MessageStatus.FAILED: ("Failed", "failed"),
    MessageStatus.CANCELLED: ("Cancelled", "cancelled"),
    MessageStatus.REFUSED: ("Not done", "cancelled"),
}
# What a call that did nothing says, instead of the text written for the model.
TOOL_NOTES: dict[str, str] = {
    MessageStatus.CANCELLED: "You cancelled it. Nothing was changed.",
    MessageStatus.REFUSED: "This needs your confirmation, which could not be asked where this came "
    "from. Nothing was changed.",
}


def message_row(m: MessageView, zone: str) -> dict[str, Any]:
    row = {
        **blank_row(m.role),
        "id": str(m.id),
        "content": m.content,
        "channel": CHANNEL_LABELS.get(m.channel, m.channel),
        "status": m.status,
        "time": local_time(m.created_at, zone),
        "iso": m.created_at.isoformat(),
    }
    if m.role == "tool":
        row.update(tool_fields(m.tool_name or "", m.tool_args, m.status, m.content))
    if m.role == "user":
        row.update(user_fields(m.content))
    return row


def user_fields(content: str) -> dict[str, Any]:
    """The person's text and the files attached to it (named at the end of the stored text)."""
    text, files = attachments.split_note(content)
    return {"text": text, "files": [file_row(a) for a in files]}


def file_row(a: attachments.Attachment) -> dict[str, str]:
    return {"path": a.path, "name": a.name, "type": a.content_type, "size": a.size_text,
            "href": f"/api/workspace/file?path={quote(a.path, safe='')}"}


def tool_fields(name: str, args: dict[str, Any] | str | None, status: str, result: str) -> dict[str, Any]:
    """A tool call as a person would describe it: what it does ("Delete README.md", a question
    while it waits for them), its arguments as labelled fields, its state in words, and what
    came of it (a failure's reason; a done call's output, which the page keeps folded)."""
    view = describe_call(name, args)
    waiting = status == MessageStatus.AWAITING_CONFIRMATION
    label, style = TOOL_STATES.get(status, ("Done", "done"))
    note = TOOL_NOTES.get(status, "")
    if status == MessageStatus.FAILED:
        note = failure_reason(result)
    return {
        "tool_name": name,
        "tool_title": view.title + ("?" if waiting else ""),
        "tool_state": label,
        "tool_style": style,
        "tool_note": note,
        "tool_result": result if status == MessageStatus.COMPLETE else "",
        "fields": [{"label": k, "value": v} for k, v in view.fields],
    }


def conversation_row(c: ConversationView) -> dict[str, str]:
    return {"id": str(c.id), "title": c.title, "updated": c.updated_at.isoformat()}


def search_row(h: SearchHit, zone: str) -> dict[str, Any]:
    """A hit: where it is, and its snippet as parts (marked ones shown as <mark> elements; all
    of it rendered as text, so markup in a message stays text)."""
    return {
        "conversation_id": str(h.conversation_id),
        "message_id": str(h.message_id),
        "title": h.conversation_title,
        "parts": [{"text": p.text, "mark": "1" if p.marked else ""} for p in h.parts],
        "role": h.role,
        "time": local_time(h.created_at, zone),
    }


def new_row(role: str, zone: str) -> dict[str, Any]:
    """A message that arrives in this tab now (the person's, or one streamed to them)."""
    now = utcnow()
    return {**blank_row(role), "time": local_time(now, zone), "iso": now.isoformat()}


def blank_row(role: str) -> dict[str, Any]:
    return {
        "id": "",
        "role": role,
        "content": "",
        "channel": "",
        "status": MessageStatus.COMPLETE,
        "time": "",
        "iso": "",
        "tool_name": "",
        "tool_title": "",
        "tool_state": "",
        "tool_style": "",
        "tool_note": "",
        "tool_result": "",
        "fields": [],
        "text": "",  # a person's message: its text, and the files attached to it
        "files": [],
    }
