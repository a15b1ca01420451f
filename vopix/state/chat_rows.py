"""What the chat page shows of each thing it lists: plain dicts of strings for the browser."""

from __future__ import annotations

from vopix.core.agent.history import ConversationView, MessageView, SearchHit
from vopix.core.clock import local_time
from vopix.core.kinds import MessageStatus, NoticeKind
from vopix.models import Notice

CHANNEL_LABELS = {"web": "", "telegram": "via Telegram", "whatsapp": "via WhatsApp"}
# Where each kind of notice sends the person, and what its link says: the page that lets them
# act on it, picked by kind (never by the text, which may change or be translated).
NOTICE_LINKS: dict[NoticeKind, tuple[str, str]] = {
    NoticeKind.SECURITY: ("/account", "Review sessions"),
    NoticeKind.QUOTA: ("/usage", "See usage and plans"),
    NoticeKind.WHATSAPP_WINDOW: ("/channels", "Open Channels"),
}


def notice_row(n: Notice) -> dict[str, str]:
    """A notice as the chat page shows it; a general notice keeps its own link, if any."""
    link, label = NOTICE_LINKS.get(n.kind, (n.link, "Open" if n.link else ""))
    return {"id": str(n.id), "text": n.text, "level": n.level, "kind": str(n.kind), "link": link,
            "label": label}


def message_row(m: MessageView, zone: str) -> dict[str, str]:
    return {
        "id": str(m.id),
        "role": m.role,
        "content": m.content,
        "channel": CHANNEL_LABELS.get(m.channel, m.channel),
        "status": m.status,
        "tool_name": m.tool_name or "",
        "tool_args": m.tool_args or "",
        "time": local_time(m.created_at, zone),
    }


def conversation_row(c: ConversationView) -> dict[str, str]:
    return {"id": str(c.id), "title": c.title, "updated": c.updated_at.isoformat()}


def search_row(h: SearchHit, zone: str) -> dict[str, str]:
    return {
        "conversation_id": str(h.conversation_id),
        "title": h.conversation_title,
        "snippet": h.snippet,
        "role": h.role,
        "time": local_time(h.created_at, zone),
    }


def blank_row(role: str) -> dict[str, str]:
    return {
        "id": "",
        "role": role,
        "content": "",
        "channel": "",
        "status": MessageStatus.COMPLETE,
        "tool_name": "",
        "tool_args": "",
        "time": "",
    }
